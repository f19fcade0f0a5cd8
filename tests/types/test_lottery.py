"""LOTTERY_V2 in both shapes: `lottery` (tickets and draws, POST /v1) and `lottery_v2` (lines, POST /v2),
dispatched by shape when they come by marker."""
import pytest

from tests.types._products import build, next_id, now_iso, only, rule_ids, rules

M = "LOTTERY_V2"


def purchase(**overrides) -> dict:
    """The older shape."""
    base = {"transaction_id": f"tx-{next_id()}", "amount": 10.0, "account_amount": 6.0, "bonus_amount": 1.0,
            "deposit_amount": 3.0, "bonus_code": "", "currency": "EUR", "exchange_rate": 1,
            "origin": "www.brand.com", "status": "Approved", "timestamp": now_iso(), "user_id": "u1",
            "tickets": [{"amount": 10.0, "draws": [{"timestamp": now_iso(86400)}], "lines_count": 2,
                         "product": "euro", "product_name": "EuroMillions", "ticket_id": "t1"}]}
    return build(base, overrides)


def lines_bet(**overrides) -> dict:
    """The lines shape."""
    base = {"ticket_id": str(100000 + next_id()), "amount": 2.0, "currency": "EUR", "exchange_rate": 1,
            "origin": "www.brand.com", "timestamp": now_iso(), "type": "Bet", "user_id": "u1",
            "lottery_id": "7", "draw_id": "42", "draw_date": now_iso(86400), "meta": None,
            "lines": [{"line_id": 1, "numbers": [1, 2, 3, 4, 5], "special_numbers": [7]},
                      {"line_id": 2, "numbers": [6, 7, 8, 9, 10], "is_quick_pick": True}]}
    return build(base, overrides)


def lines_settlement(of: dict, **overrides) -> dict:
    base = {**of, "type": "Settlement", "amount": 50.0, "timestamp": now_iso(),
            "lines": [{"line_id": 1, "numbers": [1, 2, 3, 4, 5], "matched_numbers": [1, 2, 3],
                       "is_winning_line": True}]}
    return build(base, overrides)


class TestShapes:
    def test_each_shape_by_marker_is_judged_against_its_own_schema(self, judge):
        v1, v2 = judge(purchase(), M), judge(lines_bet(), M)
        assert (v1.event, v1.valid, v1.violations) == ("lottery", True, [])
        assert (v2.event, v2.valid, v2.violations) == ("lottery_v2", True, [])

    def test_a_message_fitting_neither_goes_to_the_lines_shape_which_names_what_is_missing(self, judge):
        v = judge({"user_id": "u1", "amount": 1}, M)
        assert v.event == "lottery_v2" and ("schema.required", "/lines") in rules(v)

    def test_a_purchase_missing_a_field_is_refused_against_the_older_shape(self, judge):
        v = judge(purchase(bonus_code=None), M)
        assert v.event == "lottery" and rules(v) == {("schema.required", "/bonus_code")}

    def test_rest_each_shape_at_its_path(self, client):
        status, body = client.request("POST", "/v1/integration/lottery", purchase())
        assert status == 200 and body["valid"]
        status, body = client.request("POST", "/v2/integration/lottery", lines_bet())
        assert status == 200 and body["valid"]

    def test_rest_the_path_decides_the_shape_not_the_payload(self, client):
        status, body = client.request("POST", "/v1/integration/lottery", lines_bet())
        assert status == 400 and ("schema.required", "/tickets") in {(v["rule"], v["path"]) for v in body["violations"]}
        status, body = client.request("POST", "/v2/integration/lottery", purchase(status="Rejected"))
        assert status == 400 and ("schema.required", "/lines") in {(v["rule"], v["path"]) for v in body["violations"]}

    @pytest.mark.parametrize("path", ["/v1/integration/lottery", "/v2/integration/lottery"])
    def test_rest_wrong_method_is_405_naming_post(self, client, path):
        status, body = client.request("PUT", path, {})
        assert status == 405 and "POST for LOTTERY_V2" in body["message"]


class TestOlderShapeProfiles:
    @pytest.mark.parametrize("field,value", [("currency", "eur"), ("bonus_amount", -1.0), ("transaction_id", ""),
                                             ("tickets", []), ("timestamp", "2026-01-01")])
    def test_strict_refuses_what_ft_takes(self, make_judge, field, value):
        payload = purchase(**{field: value})
        if field == "bonus_amount":
            payload["account_amount"] = 8.0  # the parts still add up to 10
        s, f = make_judge(profile="strict")(payload, M), make_judge(profile="ft")(payload, M)
        assert not s.valid and {p for _, p in rules(s) if p.startswith(f"/{field}")}
        if field == "transaction_id":  # FT's schema takes "", ftsim's shared rule refuses an id it cannot dedupe
            assert rules(f) == {("activity.empty_id", "/transaction_id")}
        else:
            assert f.valid, rules(f)

    def test_strict_wants_an_integral_lines_count(self, make_judge):
        p = purchase()
        p["tickets"][0]["lines_count"] = 2.5
        assert rules(make_judge(profile="strict")(p, M)) == {("schema.type", "/tickets/0/lines_count")}
        assert make_judge(profile="ft")(p, M).valid

    def test_lenient_takes_an_integer_transaction_id(self, make_judge):
        assert make_judge(profile="lenient")(purchase(transaction_id=77), M).valid
        assert not make_judge(profile="strict")(purchase(transaction_id=77), M).valid

    def test_ft_refuses_what_ft_refuses(self, make_judge):
        assert rules(make_judge(profile="ft")(purchase(status="Pending"), M)) == {("schema.enum", "/status")}


class TestOlderShapeRules:
    def test_amount_sum_trips_and_passes(self, judge):
        v = judge(purchase(deposit_amount=4.0), M)
        assert v.valid and rules(v) == {("lottery.amount_sum", "/amount")}
        assert only(v, "lottery.amount_sum").severity == "warning"
        assert "lottery.amount_sum" not in rule_ids(judge(purchase(), M))

    def test_tickets_sum_trips_and_passes(self, judge):
        p = purchase()
        p["tickets"].append(dict(p["tickets"][0], ticket_id="t2", amount=5.0))
        v = judge(p, M)
        assert rules(v) == {("lottery.tickets_sum", "/amount")} and "expected 15.0" in v.violations[0].message
        assert "lottery.tickets_sum" not in rule_ids(judge(purchase(), M))

    def test_retry_and_duplicate_by_transaction_id(self, judge):
        p = purchase()
        judge(p, M)
        assert rule_ids(judge(p, M)) == {"activity.retry"}
        assert rules(judge(dict(p, amount=11.0, deposit_amount=4.0, tickets=[dict(p["tickets"][0], amount=11.0)]),
                           M)) == {("activity.duplicate", "/transaction_id")}
        assert judge(dict(p, status="Rejected"), M).violations == []  # another event of the same purchase

    def test_player_view(self, judge, runtime):
        judge(purchase(user_id="lp"), M), judge(purchase(user_id="lp", status="Rejected"), M)
        view = runtime.registry.types["lottery"].views["player"](runtime.store, "lp")
        assert view == {"lottery": {"purchases": {"approved": 1, "rejected": 1}, "amount": {"EUR": "10.00"},
                                    "tickets": 1}}


class TestLinesShapeProfiles:
    @pytest.mark.parametrize("field,value", [("currency", "Euro"), ("exchange_rate", 0), ("lines", []),
                                             ("draw_date", "10:00:00")])
    def test_strict_refuses_what_ft_takes(self, make_judge, field, value):
        payload = lines_bet(**{field: value})
        s, f = make_judge(profile="strict")(payload, M), make_judge(profile="ft")(payload, M)
        assert not s.valid and {p for _, p in rules(s)} == {f"/{field}"}
        assert f.valid, rules(f)

    def test_ids_are_digits_in_every_profile_lenient_takes_integers(self, make_judge):
        for p in ("strict", "ft"):
            assert rules(make_judge(profile=p)(lines_bet(draw_id="D42"), M)) == {("schema.pattern", "/draw_id")}
        assert make_judge(profile="lenient")(lines_bet(draw_id=42), M).valid
        assert rules(make_judge(profile="strict")(lines_bet(draw_id=42), M)) == {("schema.type", "/draw_id")}

    def test_strict_wants_an_integral_line_id(self, make_judge):
        p = lines_bet()
        p["lines"][0]["line_id"] = 1.5
        assert rules(make_judge(profile="strict")(p, M)) == {("schema.type", "/lines/0/line_id")}
        assert make_judge(profile="ft")(p, M).valid


class TestLinesShapeRules:
    def test_line_duplicate_trips_and_passes(self, judge):
        p = lines_bet()
        p["lines"][1]["line_id"] = 1
        v = judge(p, M)
        assert not v.valid and rules(v) == {("lottery_v2.line_duplicate", "/lines/1/line_id")}
        assert "lottery_v2.line_duplicate" not in rule_ids(judge(lines_bet(), M))

    def test_matched_not_played_trips_and_passes(self, judge):
        b = lines_bet()
        judge(b, M)
        s = lines_settlement(b)
        s["lines"][0]["matched_numbers"] = [1, 9]
        v = judge(s, M)
        assert rules(v) == {("lottery_v2.matched_not_played", "/lines/0/matched_numbers")} and v.valid
        assert "[9] not played" in v.violations[0].message
        b2 = lines_bet()
        judge(b2, M)
        assert judge(lines_settlement(b2), M).violations == []

    def test_settle_unknown_trips_and_passes(self, judge):
        v = judge(lines_settlement(lines_bet(ticket_id="999999999")), M)
        assert rules(v) == {("lottery_v2.settle_unknown", "/ticket_id")} and v.valid
        b = lines_bet()
        judge(b, M)
        assert judge(lines_settlement(b), M).violations == []

    def test_user_and_currency_mismatch(self, judge):
        b = lines_bet()
        judge(b, M)
        v = judge(lines_settlement(b, user_id="u9", currency="GBP"), M)
        assert not v.valid and rules(v) == {("lottery_v2.user_mismatch", "/user_id"),
                                            ("lottery_v2.currency_mismatch", "/currency")}

    def test_missing_id_is_info(self, judge):
        v = judge(lines_bet(ticket_id=None), M)
        assert v.valid and rules(v) == {("lottery_v2.missing_id", "/ticket_id")} and v.violations[0].severity == "info"

    def test_retry_by_ticket_id_and_type(self, judge):
        b = lines_bet()
        judge(b, M)
        assert rule_ids(judge(b, M)) == {"activity.retry"}
        assert rules(judge(dict(b, amount=3.0), M)) == {("activity.duplicate", "/ticket_id")}

    def test_a_ticket_settled_once_per_draw_adds_up(self, judge, runtime):
        b = lines_bet(user_id="lv")
        judge(b, M)
        assert judge(lines_settlement(b, draw_id="43"), M).violations == []
        assert judge(lines_settlement(b, draw_id="44", amount=5.0), M).violations == []
        view = runtime.registry.types["lottery_v2"].views["player"](runtime.store, "lv")
        assert view == {"lottery_tickets": {"count": 1, "open": 0, "settled": 1, "rolled_back": 0,
                                            "per_currency": {"EUR": {"stake": "2.00", "return": "55.00"}}}}
