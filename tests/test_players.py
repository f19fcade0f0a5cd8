"""The player view: per user, what the CRM would know from the feed, over real HTTP."""
from tests.conftest import casino_event, now_iso


def registration(user):
    return {"user_id": user, "origin": "www.brand.com", "timestamp": now_iso()}


def deposit(user, payment_id, amount, status="Approved"):
    return {"payment_id": payment_id, "user_id": user, "amount": amount, "currency": "EUR", "exchange_rate": 1,
            "origin": "www.brand.com", "status": status, "type": "Credit", "vendor_id": "1", "vendor_name": "Bank",
            "timestamp": now_iso(), "deposit_count": 1}


def test_a_player_is_what_every_type_told_about_them(client):
    assert client.request("POST", "/v2/integration/user", registration("p1"))[0] == 200
    assert client.request("POST", "/v2/integration/login", registration("p1"))[0] == 200
    assert client.request("POST", "/v1/integration/payment", deposit("p1", "d1", 25.5))[0] == 200
    assert client.request("POST", "/v1/integration/payment", deposit("p1", "d2", 10, "Rejected"))[0] == 200
    assert client.post_event(casino_event(user_id="p1", activity_id="b1", round_id="r1"))[0] == 200
    status, player = client.get("/api/users/p1")
    assert status == 200 and player["messages"] == 5 and player["invalid"] == 0
    assert player["by_type"] == {"casino": {"received": 1, "valid": 1}, "login_v2": {"received": 1, "valid": 1},
                                 "payment": {"received": 2, "valid": 2},
                                 "user_create_v2": {"received": 1, "valid": 1}}
    assert player["registration"]["registrations"] == 1 and player["logins"]["count"] == 1
    assert player["payments"]["deposits"] == {"EUR": {"count": 1, "sum": "25.50"}}  # approved only
    assert player["rounds"]["open"] == 1 and player["rounds"]["by_currency"]["EUR"]["bet_total"] == "20.00"


def test_users_are_listed_and_paged_and_an_unknown_one_is_404(client):
    for user in ("a", "b", "c"):
        client.request("POST", "/v2/integration/user", registration(user))
    client.request("POST", "/v2/integration/user", {"origin": "x"})  # names no user: listed under no one
    status, page = client.get("/api/users?limit=2")
    assert status == 200 and page["total"] == 3 and [u["user_id"] for u in page["users"]] == ["a", "b"]
    assert [u["user_id"] for u in client.get("/api/users?limit=2&offset=2")[1]["users"]] == ["c"]
    assert client.get("/api/users?user_id=b")[1]["users"][0]["messages"] == 1
    status, body = client.get("/api/users/nobody")
    assert status == 404 and "nobody" in body["message"]


def test_the_summary_counts_by_type_and_channel(client):
    client.request("POST", "/v2/integration/user", registration("s1"))
    client.request("POST", "/v2/integration/user", {"user_id": "s2"})  # missing origin and timestamp
    by_type = client.get("/api/summary")[1]["by_type"]
    assert by_type["user_create_v2"] == {"received": 2, "valid": 1, "by_channel": {"rest": {"received": 2, "valid": 1}}}
