"""CART: a checkout, brokers only; FT's facts (its `unkown` spelling included) and ftsim's stricter reading."""
import pytest

from tests.types._products import build, next_id, now_iso, only, rule_ids, rules

M = "CART"


def cart(**overrides) -> dict:
    base = {"cart_id": 1000 + next_id(), "amount": 12.0, "discount_amount": 2.0, "currency": "EUR",
            "exchange_rate": 1, "status": "Successful", "type": "Checkout", "user_id": "u1",
            "device_type": "mobile", "origin": "www.brand.com", "timestamp": now_iso(), "bonus_code": "",
            "items": [{"id": 1, "amount": 12.0, "discount_amount": 2.0, "bonus_code": "", "description": "2 lines",
                       "name": "EuroMillions", "type": "Lottery"}],
            "payments": [{"amount": 10.0, "type": "Balance"}]}
    return build(base, overrides)


class TestContract:
    def test_a_valid_cart_by_marker_is_accepted(self, judge):
        v = judge(cart(), M, channel="rabbit")
        assert (v.event, v.valid, v.violations) == ("cart", True, [])

    def test_a_cart_without_items_is_refused(self, judge):
        assert rules(judge(cart(items=None), M)) == {("schema.required", "/items")}

    def test_device_type_takes_ft_spelling_unkown_and_refuses_unknown_in_every_profile(self, make_judge):
        for p in ("strict", "lenient", "ft"):
            send = make_judge(profile=p)
            assert send(cart(device_type="unkown"), M).valid
            v = send(cart(device_type="unknown"), M)
            assert rules(v) == {("schema.enum", "/device_type")}

    def test_no_rest_path_brokers_only(self, client):
        status, _ = client.request("POST", "/v1/integration/cart", cart())
        assert status == 404


class TestProfiles:
    @pytest.mark.parametrize("field,value", [("currency", "XYZ"), ("exchange_rate", 0), ("cart_id", 12.5),
                                             ("items", []), ("timestamp", "2026-01-01T9:00:00Z")])
    def test_strict_refuses_what_ft_takes(self, make_judge, field, value):
        payload = cart(**{field: value})
        s, f = make_judge(profile="strict")(payload, M), make_judge(profile="ft")(payload, M)
        assert not s.valid and {p for _, p in rules(s)} == {f"/{field}"}
        assert f.valid, rules(f)

    def test_lenient_takes_a_string_cart_id(self, make_judge):
        assert make_judge(profile="lenient")(cart(cart_id="C-1"), M).valid
        assert rules(make_judge(profile="strict")(cart(cart_id="C-1"), M)) == {("schema.type", "/cart_id")}
        assert rules(make_judge(profile="ft")(cart(cart_id="C-1"), M)) == {("schema.type", "/cart_id")}

    def test_ft_refuses_what_ft_refuses(self, make_judge):
        assert rules(make_judge(profile="ft")(cart(status="Failed"), M)) == {("schema.enum", "/status")}
        v = make_judge(profile="ft")(cart(discount_amount=-1), M)
        assert not v.valid and {r for r in rules(v) if r[0].startswith("schema.")} == {
            ("schema.minimum", "/discount_amount")}


class TestRules:
    def test_payments_sum_trips(self, judge):
        v = judge(cart(payments=[{"amount": 5.0, "type": "Balance"}]), M)
        assert v.valid and rules(v) == {("cart.payments_sum", "/payments")}
        assert only(v, "cart.payments_sum").severity == "warning"
        assert "got 5.0" in v.violations[0].message

    @pytest.mark.parametrize("paid", [10.0, 12.0])
    def test_payments_sum_passes_before_or_after_discount(self, judge, paid):
        assert "cart.payments_sum" not in rule_ids(judge(cart(payments=[{"amount": paid, "type": "Balance"}]), M))

    def test_retry_and_duplicate_by_cart_id(self, judge):
        c = cart()
        judge(c, M)
        assert rule_ids(judge(c, M)) == {"activity.retry"}
        assert rules(judge(dict(c, bonus_code="X"), M)) == {("activity.duplicate", "/cart_id")}

    def test_player_view(self, judge, runtime):
        judge(cart(user_id="cv"), M), judge(cart(user_id="cv", amount=3.5, discount_amount=0,
                                                 payments=[{"amount": 3.5, "type": "Balance"}]), M)
        assert runtime.registry.types["cart"].views["player"](runtime.store, "cv") == {
            "carts": {"checkouts": 2, "amount": {"EUR": "15.50"}}}
