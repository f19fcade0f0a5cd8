"""The four poker types: brokers only; FT's cash-game pair requires currency and exchange_rate without
defining them, the tournament pair defines them; buy-ins and cash-outs counted per user and currency."""
import pytest

from tests.types._products import build, now_iso, only, rule_ids, rules

CASH_IN, CASH_OUT = "POKER_CASH_GAME_BUY_IN_V2", "POKER_CASH_GAME_CASH_OUT_V2"
TOUR_IN, TOUR_OUT = "POKER_TOURNAMENT_BUY_IN_V2", "POKER_TOURNAMENT_CASH_OUT_V2"
ALL = (CASH_IN, CASH_OUT, TOUR_IN, TOUR_OUT)


def poker(**overrides) -> dict:
    base = {"currency": "EUR", "exchange_rate": 1, "status": "Approved", "timestamp": now_iso(), "user_id": "u1"}
    return build(base, overrides)


def view(runtime, marker, user_id):
    return runtime.registry.types[marker.lower()].views["player"](runtime.store, user_id)


class TestContract:
    @pytest.mark.parametrize("marker", ALL)
    def test_a_valid_event_by_marker_is_accepted(self, judge, marker):
        user = f"c-{marker}"
        judge(poker(user_id=user), CASH_IN if "CASH_GAME" in marker else TOUR_IN)  # a buy-in before any cash-out
        v = judge(poker(user_id=user, timestamp=now_iso(0.001)), marker, channel="rabbit")
        assert (v.event, v.valid, v.violations) == (marker.lower(), True, [])

    @pytest.mark.parametrize("marker", ALL)
    def test_a_missing_status_is_refused(self, judge, marker):
        assert rules(judge(poker(status=None), marker)) == {("schema.required", "/status")}

    @pytest.mark.parametrize("path", ["/v1/integration/poker", "/v2/integration/poker/cash-game/buy-in"])
    def test_no_rest_path_brokers_only(self, client, path):
        status, _ = client.request("POST", path, poker())
        assert status == 404


class TestProfiles:
    @pytest.mark.parametrize("marker", (CASH_IN, CASH_OUT))
    def test_ft_takes_any_value_for_the_undeclared_cash_game_fields_strict_does_not(self, make_judge, marker):
        payload = poker(currency=None, exchange_rate={"x": 1})
        payload["currency"] = None  # present, but null
        ft = make_judge(profile="ft")(payload, marker)
        assert not any(r.startswith("schema.") for r in rule_ids(ft)), rules(ft)
        strict = make_judge(profile="strict")(payload, marker)
        assert {p for r, p in rules(strict) if r.startswith("schema.")} == {"/currency", "/exchange_rate"}

    @pytest.mark.parametrize("marker", ALL)
    def test_ft_still_requires_the_keys(self, make_judge, marker):
        assert rules(make_judge(profile="ft")(poker(exchange_rate=None), marker)) == {
            ("schema.required", "/exchange_rate")}

    @pytest.mark.parametrize("marker", (TOUR_IN, TOUR_OUT))
    def test_the_tournament_pair_defines_them_for_ft_too(self, make_judge, marker):
        v = make_judge(profile="ft")(poker(currency=5, exchange_rate=-1), marker)
        assert rules(v) == {("schema.type", "/currency"), ("schema.minimum", "/exchange_rate")}

    @pytest.mark.parametrize("marker", (TOUR_IN, TOUR_OUT))
    def test_strict_wants_iso_4217_and_a_positive_rate_ft_does_not(self, make_judge, marker):
        payload = poker(currency="BTC", exchange_rate=0)
        assert {p for _, p in rules(make_judge(profile="strict")(payload, marker))} == {"/currency", "/exchange_rate"}
        assert make_judge(profile="ft")(payload, marker).valid


class TestRules:
    def test_cash_out_without_buy_in_trips_and_passes(self, judge):
        v = judge(poker(user_id="p1"), CASH_OUT)
        assert v.valid and rules(v) == {("poker.cash_out_without_buy_in", "/user_id")}
        assert only(v, "poker.cash_out_without_buy_in").severity == "warning"
        judge(poker(user_id="p1"), TOUR_IN)  # a tournament buy-in does not cover a cash game
        assert "poker.cash_out_without_buy_in" in rule_ids(judge(poker(user_id="p1", timestamp=now_iso(0.01)), CASH_OUT))
        judge(poker(user_id="p1"), CASH_IN)
        assert judge(poker(user_id="p1", timestamp=now_iso(0.02)), CASH_OUT).violations == []

    def test_rollback_unmatched_trips_and_passes(self, judge):
        v = judge(poker(user_id="p2", status="Rollback"), TOUR_IN)
        assert rules(v) == {("poker.rollback_unmatched", "/status")} and v.valid
        judge(poker(user_id="p2"), TOUR_IN)
        assert judge(poker(user_id="p2", status="Rollback", timestamp=now_iso(0.01)), TOUR_IN).violations == []
        # that one was reversed: nothing left
        assert "poker.rollback_unmatched" in rule_ids(
            judge(poker(user_id="p2", status="Rollback", timestamp=now_iso(0.02)), TOUR_IN))

    def test_the_same_payload_again_is_a_retry(self, judge):
        p = poker(user_id="p3")
        judge(p, CASH_IN)
        assert rule_ids(judge(p, CASH_IN)) == {"activity.retry"}


class TestPlayerView:
    def test_counts_per_type_and_currency(self, judge, runtime):
        judge(poker(user_id="pv"), CASH_IN), judge(poker(user_id="pv", currency="USD"), CASH_IN)
        judge(poker(user_id="pv", timestamp=now_iso(0.01)), CASH_IN)
        judge(poker(user_id="pv", status="Rollback", timestamp=now_iso(0.02)), CASH_IN)
        assert view(runtime, CASH_IN, "pv") == {"poker_cash_game_buy_ins": {
            "EUR": {"approved": 2, "rolled_back": 1, "net": 1}, "USD": {"approved": 1, "rolled_back": 0, "net": 1}}}
        assert view(runtime, TOUR_OUT, "pv") is None
