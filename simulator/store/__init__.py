"""Where messages, verdicts, activities and rounds are kept, behind one small interface.

`open_store("ftsim.db")` or `open_store(":memory:")` gives SQLite. Intake and the query API only know the
Store and Tx methods in base.py, so another SQL database is a dialect of sql.SQLStore.
"""
from __future__ import annotations

from .base import MessageRecord, Store


def open_store(target: str) -> Store:
    from .sqlite import SQLiteStore

    return SQLiteStore(target)


__all__ = ["MessageRecord", "Store", "open_store"]
