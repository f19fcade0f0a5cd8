"""SPORTSBOOK: the contract per profile, the stateless rules, bets settled by id, REST and the player view."""
import pytest

from tests.types._products import build, next_id, now_iso, only, rule_ids, rules

M = "SPORTSBOOK"
PATH = "/v1/integration/sports"


def bet(**overrides) -> dict:
    n = next_id()
    base = {"activity_id": f"sb-{n}", "amount": 10.0, "wager_amount": 8.0, "bonus_wager_amount": 2.0,
            "locked_wager_amount": 0, "bet_type": "Single", "currency": "EUR", "exchange_rate": 1, "odds": 2.5,
            "origin": "www.brand.com", "status": "Approved", "timestamp": now_iso(), "type": "Bet",
            "user_id": "u1", "is_cashout": False, "meta": None,
            "bets": [{"event_name": "A - B", "match_start": now_iso(3600), "odds": 2.5, "market": "1X2",
                      "is_live": False, "outcomes": [{"criterion_name": "Full Time", "outcome_label": "Home"}]}]}
    return build(base, overrides)


def settlement(of: dict, **overrides) -> dict:
    base = {**of, "activity_id": f"{of['activity_id']}-s", "activity_id_reference": of["activity_id"],
            "type": "Settlement", "amount": 25.0, "wager_amount": 25.0, "bonus_wager_amount": 0,
            "settlement_type": "Won", "timestamp": now_iso()}
    return build(base, overrides)


class TestContract:
    def test_a_valid_bet_is_accepted(self, judge):
        v = judge(bet(), M)
        assert v.valid and v.violations == []

    def test_a_bet_without_bets_is_refused_at_its_path(self, judge):
        v = judge(bet(bets=None), M)
        assert not v.valid and rules(v) == {("schema.required", "/bets")}

    def test_a_selection_needs_its_match_start_in_rfc3339(self, judge):
        b = bet()
        b["bets"][0]["match_start"] = "2026-01-01 10:00:00"
        assert rules(judge(b, M)) == {("schema.format", "/bets/0/match_start")}

    def test_marker_dispatch_reaches_sportsbook(self, judge):
        assert judge(bet(), M).event == "sportsbook"


class TestProfiles:
    """strict: RFC 3339, ISO 4217, parts >= 0, non-empty ids, one bet at least; ft: exactly FT's facts."""

    @pytest.mark.parametrize("field,value", [
        ("currency", "EURO"), ("wager_amount", -1), ("activity_id", ""), ("exchange_rate", 0),
        ("timestamp", "2015-03-02T8:27:58.721607Z"), ("bets", []), ("origin", "")])
    def test_strict_refuses_what_ft_takes(self, make_judge, field, value):
        strict, ft = make_judge(profile="strict"), make_judge(profile="ft")
        payload = bet(**{field: value})
        if field == "wager_amount":
            payload.update(amount=-1 + 2.0, bonus_wager_amount=2.0)  # keep the parts summing
        s, f = strict(payload, M), ft(payload, M)
        assert not s.valid and any(r[1] == f"/{field}" and r[0].startswith("schema.") for r in rules(s))
        assert not any(r[0].startswith("schema.") for r in rules(f)), rules(f)

    def test_ft_still_refuses_what_ft_refuses(self, make_judge):
        ft = make_judge(profile="ft")
        assert rules(ft(bet(bet_type="Accumulator"), M)) == {("schema.enum", "/bet_type")}
        assert rules(ft(bet(user_id=""), M)) == {("schema.minLength", "/user_id")}

    def test_lenient_takes_an_integer_activity_id(self, make_judge):
        lenient, strict = make_judge(profile="lenient"), make_judge(profile="strict")
        assert lenient(bet(activity_id=12345), M).valid
        assert rules(strict(bet(activity_id=12345), M)) == {("schema.type", "/activity_id")}

    def test_violations_name_their_source(self, judge, make_judge):
        [v] = judge(bet(currency="EURO"), M).violations
        assert v.source == "ftsim (ISO 4217)"
        [v] = make_judge(profile="ft")(bet(bet_type="x"), M).violations
        assert v.source == "FT's validator"

    def test_meta_may_be_null_in_every_profile(self, make_judge):
        for p in ("strict", "lenient", "ft"):
            assert make_judge(profile=p)(bet(meta=None), M).valid


class TestStatelessRules:
    def test_amount_sum_trips_when_parts_do_not_add_up(self, judge):
        v = judge(bet(amount=11.0), M)
        assert not v.valid and rules(v) == {("sportsbook.amount_sum", "/amount")}
        assert "expected 10.00 (wager_amount 8.00 + bonus_wager_amount 2.00 + locked_wager_amount 0), got 11.00" \
            in v.violations[0].message  # money as sent: 8.0 is the double of 8.00

    def test_amount_sum_passes_within_tolerance_and_without_parts(self, judge):
        assert judge(bet(amount=10.005), M).valid
        assert judge(bet(amount=99.0, wager_amount=None, bonus_wager_amount=None, locked_wager_amount=None), M).valid

    def test_odds_of_one_or_less_trip_at_the_slip_and_the_selection(self, judge):
        b = bet(odds=1.0)
        b["bets"][0]["odds"] = 0.9
        v = judge(b, M)
        assert rules(v) == {("sportsbook.odds", "/odds"), ("sportsbook.odds", "/bets/0/odds")} and not v.valid

    def test_odds_above_one_pass(self, judge):
        assert "sportsbook.odds" not in rule_ids(judge(bet(odds=1.01), M))

    def test_legs_trips_for_a_single_with_two_selections(self, judge):
        b = bet()
        b["bets"].append(dict(b["bets"][0], event_name="C - D"))
        v = judge(b, M)
        assert v.valid and only(v, "sportsbook.legs").severity == "warning"
        assert only(v, "sportsbook.legs").path == "/bets"

    def test_legs_trips_for_a_multi_with_one_selection_and_passes_with_two(self, judge):
        assert "sportsbook.legs" in rule_ids(judge(bet(bet_type="Multi"), M))
        b = bet(bet_type="Multi")
        b["bets"].append(dict(b["bets"][0], event_name="C - D"))
        assert "sportsbook.legs" not in rule_ids(judge(b, M))


class TestBets:
    def test_a_settlement_after_its_bet_is_accepted(self, judge):
        b = bet()
        assert judge(b, M).valid
        v = judge(settlement(b), M)
        assert v.valid and v.violations == []

    def test_settle_unknown_for_a_bet_never_placed(self, judge):
        v = judge(settlement(bet(activity_id="never")), M)
        assert v.valid and rules(v) == {("sportsbook.settle_unknown", "/activity_id")}
        assert only(v, "sportsbook.settle_unknown").severity == "warning"
        assert "'never'" in v.violations[0].message

    def test_a_settlement_by_its_own_activity_id_finds_the_bet(self, judge):
        b = bet()
        judge(b, M)
        s = settlement(b, activity_id=b["activity_id"], activity_id_reference=None)
        assert judge(s, M).violations == []

    def test_settled_twice(self, judge):
        b = bet()
        judge(b, M)
        assert judge(settlement(b), M).violations == []
        v = judge(settlement(b, activity_id=b["activity_id"] + "-s2"), M)
        assert rules(v) == {("sportsbook.settled_twice", "/activity_id")}

    def test_currency_and_user_mismatch(self, judge):
        b = bet()
        judge(b, M)
        v = judge(settlement(b, currency="USD", user_id="u2"), M)
        assert not v.valid and rules(v) == {("sportsbook.currency_mismatch", "/currency"),
                                            ("sportsbook.user_mismatch", "/user_id")}
        assert judge(settlement(b), M).valid  # the refused one settled nothing

    def test_rollback_of_a_bet_and_of_an_unknown_bet(self, judge):
        b = bet()
        judge(b, M)
        assert judge(dict(b, status="Rollback"), M).violations == []
        v = judge(settlement(b), M)
        assert rules(v) == {("sportsbook.settle_unknown", "/activity_id")} and "rolled back" in v.violations[0].message
        v = judge(bet(status="Rollback", activity_id="nope"), M)
        assert rules(v) == {("sportsbook.rollback_unknown", "/activity_id")}

    def test_missing_id_is_info_and_joins_no_bet(self, judge):
        v = judge(bet(activity_id=None), M)
        assert v.valid and rules(v) == {("sportsbook.missing_id", "/activity_id")}
        assert v.violations[0].severity == "info"
        assert "sportsbook.missing_id" not in rule_ids(judge(bet(), M))

    def test_a_retry_is_info_and_counted_once_a_changed_payload_a_duplicate(self, judge, runtime):
        b = bet(user_id="retry-user")
        judge(b, M)
        assert rule_ids(judge(b, M)) == {"activity.retry"}
        v = judge(dict(b, amount=12.0, wager_amount=10.0), M)
        assert rules(v) == {("activity.duplicate", "/activity_id")} and not v.valid
        view = runtime.registry.types["sportsbook"].views["player"](runtime.store, "retry-user")
        assert view["sportsbook_bets"]["count"] == 1


class TestPlayerView:
    def test_counts_open_settled_and_money_per_currency(self, judge, runtime):
        b1, b2 = bet(user_id="pv"), bet(user_id="pv", currency="USD", amount=5.0, wager_amount=5.0,
                                             bonus_wager_amount=0)
        judge(b1, M), judge(b2, M), judge(settlement(b1), M)
        view = runtime.registry.types["sportsbook"].views["player"](runtime.store, "pv")
        assert view == {"sportsbook_bets": {"count": 2, "open": 1, "settled": 1, "rolled_back": 0, "per_currency": {
            "EUR": {"stake": "10.00", "return": "25.00"}, "USD": {"stake": "5.00", "return": "0.00"}}}}

    def test_no_bets_no_view(self, runtime):
        assert runtime.registry.types["sportsbook"].views["player"](runtime.store, "nobody") is None


class TestRest:
    def test_post_valid_200_invalid_400(self, client):
        status, body = client.request("POST", PATH, bet())
        assert status == 200 and body["valid"]
        status, body = client.request("POST", PATH, bet(odds="2.5"))
        assert status == 400 and {(v["rule"], v["path"]) for v in body["violations"]} == {("schema.type", "/odds")}

    def test_wrong_method_is_405_naming_post(self, client):
        status, body = client.request("PUT", PATH, bet())
        assert status == 405 and "POST for SPORTSBOOK" in body["message"]
