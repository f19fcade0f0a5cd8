"""The product types' schema files: both engines agree, every profile compiles, every rule id is catalogued."""
import pytest

from simulator.contract.catalog import CATALOG
from simulator.contract.registry import load_registry
from simulator.contract.validate import make_validator
from tests.types import test_cart, test_custom, test_game, test_lottery, test_poker, test_sportsbook

NAMES = ("sportsbook", "lottery", "lottery_v2", "cart", "game", "custom", "poker_cash_game_buy_in_v2",
         "poker_cash_game_cash_out_v2", "poker_tournament_buy_in_v2", "poker_tournament_cash_out_v2")
SAMPLES = {"sportsbook": test_sportsbook.bet, "lottery": test_lottery.purchase, "lottery_v2": test_lottery.lines_bet,
           "cart": test_cart.cart, "game": test_game.game, "custom": test_custom.custom}
BAD = [None, "", -1, 0, 1.5, "2015-03-02T8:27:58Z", "EURO", [], {}, True]


def mutations(payload):
    yield payload
    for key in payload:
        for bad in BAD:
            yield {**payload, key: bad} if bad is not None else {k: v for k, v in payload.items() if k != key}


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("profile", ["strict", "lenient", "ft"])
def test_rust_engine_agrees_with_the_reference_engine(name, profile):
    t = load_registry().types[name]
    rust, python = make_validator(t, profile, "rust"), make_validator(t, profile, "python")
    sample = SAMPLES.get(name, test_poker.poker)()
    for payload in mutations(sample):
        got = {(v.rule, v.path) for v in rust.violations(payload)}
        assert got == {(v.rule, v.path) for v in python.violations(payload)}, payload


@pytest.mark.parametrize("name", NAMES)
def test_every_profile_names_its_sources_and_requires_what_ft_requires(name):
    t = load_registry().types[name]
    for profile in ("strict", "lenient", "ft"):
        assert "*" in t.sources(profile)
        assert t.required(profile) == t.required("ft")  # ftsim tightens values, never FT's required list


@pytest.mark.parametrize("name", NAMES)
def test_every_rule_id_is_in_the_catalog_with_its_severity(name):
    for info in load_registry().types[name].rule_info:
        assert CATALOG[info.id] == info and info.severity in ("error", "warning", "info")
