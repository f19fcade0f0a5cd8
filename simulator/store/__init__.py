"""Where messages, verdicts and the event types' state are kept, behind one small interface.

`open_store("ftsim.db")` or `open_store(":memory:")` gives SQLite; `open_store("postgresql://...")` gives
PostgreSQL, for several ftsim instances sharing one ledger. Intake and the query API only know the Store and
Tx methods in base.py.
"""
from __future__ import annotations

from simulator.store.base import MessageRecord, Store


def open_store(target: str, durability: str = "full", tables=()) -> Store:
    """`durability`: "full" commits reach the disk before intake returns; "normal" may lose the last ones.
    `tables`: the event types' own SQL tables (`registry.tables()`), created and cleared with the store's."""
    if target.startswith(("postgresql://", "postgres://")):
        from simulator.store.postgres import PostgresStore

        return PostgresStore(target, durability, tables)
    from simulator.store.sqlite import SQLiteStore

    return SQLiteStore(target, durability, tables)


__all__ = ["MessageRecord", "Store", "open_store"]
