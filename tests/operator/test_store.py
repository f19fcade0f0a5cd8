"""The operator calls' table on both stores: written in a batch, read in pages, counted for the summary."""
from __future__ import annotations

from simulator.store import open_store


def call(n, endpoint="userdetails", user="u-1", violations=(), latency=10.0):
    return {"at": f"2026-01-01T00:00:{n:02d}.000000Z", "endpoint": endpoint, "method": "GET",
            "path": f"/{endpoint}/{user}", "user_id": user, "status": 200, "latency_ms": latency,
            "valid": not any(v["severity"] == "error" for v in violations), "violations": list(violations),
            "message_id": n, "body": "{}"}


def test_calls_are_stored_paged_and_counted(db_target):
    store = open_store(db_target)
    try:
        bad = [{"rule": "operator.cache", "path": "", "message": "cacheable", "severity": "error"}]
        store.add_operator_calls([call(1, latency=5), call(2, "userblocks", latency=15),
                                  call(3, violations=bad, user="u-2", latency=100), call(4, "userconsents")])
        page, total = store.operator_calls(limit=2, offset=0)
        assert total == 4 and [c["message_id"] for c in page] == [4, 3]  # newest first
        page, total = store.operator_calls(limit=2, offset=2)
        assert [c["message_id"] for c in page] == [2, 1]
        page, total = store.operator_calls(endpoint="userdetails", valid=False)
        assert total == 1 and page[0]["user_id"] == "u-2" and page[0]["violations"] == bad
        assert store.operator_calls(user_id="u-1")[1] == 3
        stats = store.operator_call_stats()
        assert stats["calls"] == 4 and stats["failed"] == 1
        assert stats["by_endpoint"]["userdetails"] == {"calls": 2, "failed": 1}
        assert stats["by_rule"] == {"operator.cache": {"calls": 1, "severity": "error"}}
        assert stats["latency_ms"] == {"p50": 15.0, "p99": 100.0}  # nearest rank, as for messages
        store.clear()
        assert store.operator_calls()[1] == 0
    finally:
        store.close()
