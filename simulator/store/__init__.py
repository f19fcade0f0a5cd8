"""Where messages, verdicts, activities and rounds are kept, behind one small interface.

`open_store("ftsim.db")` or `open_store(":memory:")` gives SQLite; `open_store("postgresql://...")` gives
PostgreSQL, for several ftsim instances sharing one ledger. Intake and the query API only know the Store and
Tx methods in base.py.
"""
from __future__ import annotations

from simulator.store.base import MessageRecord, Store


def open_store(target: str, durability: str = "full") -> Store:
    """`durability`: "full" commits reach the disk before intake returns; "normal" may lose the last ones."""
    if target.startswith(("postgresql://", "postgres://")):
        from simulator.store.postgres import PostgresStore

        return PostgresStore(target, durability)
    from simulator.store.sqlite import SQLiteStore

    return SQLiteStore(target, durability)


__all__ = ["MessageRecord", "Store", "open_store"]
