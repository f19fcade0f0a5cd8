"""Where messages, verdicts and the event types' state are kept, behind one small interface.

`open_store("ftsim.db")` or `open_store(":memory:")` gives SQLite; `open_store("postgresql://...")` gives
PostgreSQL, for several ftsim instances sharing one ledger. Intake and the query API only know the Store and
Tx methods in base.py.
"""
from __future__ import annotations

from simulator.core.errors import ConfigError
from simulator.store.base import MessageRecord, Store


def open_store(target: str, durability: str = "full", tables=()) -> Store:
    """`durability`: "full" commits reach the disk before intake returns; "normal" may lose the last ones.
    `tables`: the event types' own SQL tables (`registry.tables()`), created and cleared with the store's."""
    if target.startswith(("postgresql://", "postgres://")):
        try:
            import psycopg
        except ImportError:
            raise ConfigError("--db: a PostgreSQL store needs psycopg: pip install 'ftsim[postgres]'") from None
        from simulator.store.postgres import PostgresStore

        try:
            return PostgresStore(target, durability, tables)
        except psycopg.Error as exc:  # no such database, server down, credentials refused
            raise _unopened("the PostgreSQL database", exc) from None  # the URL may hold a password
    import sqlite3

    from simulator.store.sqlite import SQLiteStore

    try:
        return SQLiteStore(target, durability, tables)
    except sqlite3.Error as exc:  # not a database file, a directory that does not exist
        raise _unopened(target, exc) from None


def _unopened(what: str, exc: Exception) -> ConfigError:
    """A store that cannot be opened is the user's setting to fix, said on one line (libpq adds its hint on a
    line of its own), not a driver's traceback."""
    why = "; ".join(line.strip() for line in str(exc).splitlines() if line.strip()) or type(exc).__name__
    return ConfigError(f"--db: cannot open {what}: {why}")


__all__ = ["MessageRecord", "Store", "open_store"]
