"""Scenarios are data: one small TOML file each, read here into a checked, immutable Scenario.

A scenario names who plays (players, currencies), what they play (the game mix), how (sessions, rounds,
bonus and locked wallets, rollbacks) and which faults to inject at what rate. The engine that turns it
into messages is journeys.py; this module only reads and checks the file, so a typo in a scenario fails
with the file, the key and what was expected, before anything is sent.
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, fields
from decimal import Decimal
from importlib import resources
from pathlib import Path

from simulator.core.errors import ConfigError

GAME_TYPES = {"slots": "Slots", "live": "Live Casino", "table": "Table"}


class ScenarioError(ConfigError):
    """A scenario file is missing, unreadable or says something the engine cannot do."""


@dataclass(frozen=True)
class Play:
    """How each player plays."""
    sessions: tuple[int, int] = (1, 3)  # sessions per player, then the player leaves and a new one joins
    rounds: tuple[int, int] = (5, 25)  # rounds per session
    deposit: tuple[Decimal, Decimal] = (Decimal("20"), Decimal("500"))  # a top-up when the wallet runs dry
    bonus_share: float = 0.15  # chance a player holds bonus money, which bets use before real money
    locked_share: float = 0.05  # chance a player's wallet is locked (bonus and real money combined)
    rollback_rate: float = 0.01  # chance a round has one of its bets rolled back by the platform


@dataclass(frozen=True)
class Journey:
    """A player's whole life in the feed, not casino rounds alone (the [journey] table; absent: casino only).

    Every player registers (USER_CREATE_V2, or arrives migrated) and deposits (PAYMENT) first; the rest are
    chances."""
    login: float = 1.0  # LOGIN_V2 as each session starts
    consents: float = 0.5  # USER_CONSENTS_V2 right after registering
    declined: float = 0.05  # a deposit Rejected or Cancelled (the player then tries again)
    bonus: float = 0.3  # a BONUS given after the first deposit, wagered (Ongoing) and completed at the end
    balances: float = 1.0  # USER_BALANCES_UPDATE after each money move and each session
    update: float = 0.2  # USER_UPDATE_V2 per session
    withdraw: float = 0.5  # a PAYMENT withdrawal of the real money left when leaving
    block: float = 0.1  # USER_BLOCK_V2 when leaving
    sportsbook: float = 0.0  # chance a session is on the sportsbook (bets placed, then settled)
    migration: float = 0.0  # chance a player arrives migrated (USER_MIGRATION, then USER_MIGRATION_APPROVE)
    tags: float = 0.0  # USER_TAG per session
    custom: float = 0.0  # CUSTOM (an operator-defined event) per session
    poker: float = 0.0  # a poker buy-in then cash-out (cash game or tournament), once in a player's life
    lottery: float = 0.0  # a lottery purchase in the older shape (LOTTERY_V2 at /v1/integration/lottery)
    lottery_v2: float = 0.0  # a lottery ticket in the lines shape: its Bet, then its Settlement
    cart: float = 0.0  # a cart checkout (lottery and scratch tickets)
    catalog: float = 0.0  # chance each game of the library is announced (GAME) as the run starts

    # step -> the types (by name) it sends
    STEPS = {"login": ("login_v2",), "consents": ("user_consents_v2",), "bonus": ("bonus",),
             "balances": ("user_balances_update",), "update": ("user_update_v2",), "block": ("user_block_v2",),
             "sportsbook": ("sportsbook",), "migration": ("user_migration", "user_migration_approve"),
             "tags": ("user_tags",), "custom": ("custom",), "lottery": ("lottery",), "lottery_v2": ("lottery_v2",),
             "cart": ("cart",), "catalog": ("game",),
             "poker": ("poker_cash_game_buy_in_v2", "poker_cash_game_cash_out_v2", "poker_tournament_buy_in_v2",
                       "poker_tournament_cash_out_v2")}

    @property
    def type_names(self) -> dict[str, tuple[str, ...]]:
        """The types this journey can send (casino's rounds aside), by the step that sends them."""
        out = {"register": ("user_create_v2",), "deposit": ("payment",)}
        out.update({step: names for step, names in self.STEPS.items() if getattr(self, step) > 0})
        return out

    @property
    def markers(self) -> tuple[str, ...]:
        """The type markers this journey can send."""
        from simulator.contract.registry import load_registry

        types = load_registry().types
        found = ["USER_CREATE_V2", "PAYMENT", "CASINO"]
        for names in list(self.type_names.values())[2:]:
            found += [types[n].marker for n in names if n in types and types[n].marker not in found]
        return tuple(found)


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    seed: int
    players: int = 20  # playing at the same time; a leaving player is replaced by a new one
    count: int = 1000  # messages `ftsim scenario run` sends unless --count says otherwise
    currencies: dict = field(default_factory=lambda: {"EUR": 1.0})
    games: dict = field(default_factory=lambda: {"slots": 1.0})  # weights by game type
    play: Play = Play()
    faults: dict = field(default_factory=dict)  # fault kind -> chance per message
    late_seconds: tuple[float, float] = (3.0, 8.0)  # how far behind a late timestamp is
    path: str = ""
    journey: Journey | None = None  # None: casino rounds only, as every scenario before journeys


def scenario_dirs(extra: str | None = None) -> list[Path]:
    """Where scenarios are looked up: --scenarios DIR, the installed copy, the repository's own."""
    dirs = [Path(extra)] if extra else []
    packaged = resources.files("simulator") / "_scenarios"
    if packaged.is_dir():
        dirs.append(Path(str(packaged)))
    dirs.append(Path(__file__).resolve().parents[3] / "scenarios")
    return dirs


def list_scenarios(extra: str | None = None) -> list[Scenario]:
    found: dict[str, Scenario] = {}
    for d in scenario_dirs(extra):
        for path in sorted(d.glob("*.toml")):
            sc = read_scenario(path)
            found.setdefault(sc.name, sc)
    return sorted(found.values(), key=lambda s: s.name)


def load_scenario(name: str, extra: str | None = None) -> Scenario:
    """A scenario by name (`faulty`) or by the path of its file (`./mine.toml`)."""
    if name.endswith(".toml") or "/" in name:
        return read_scenario(Path(name))
    for d in scenario_dirs(extra):
        path = d / f"{name}.toml"
        if path.is_file():
            return read_scenario(path)
    known = ", ".join(s.name for s in list_scenarios(extra)) or "none"
    raise ScenarioError(f"scenario {name!r}: not found; known scenarios: {known}")


_TOP = {"name", "description", "seed", "players", "count", "currencies", "games", "play", "faults",
        "late_seconds", "journey"}
_PLAY = {"sessions", "rounds", "deposit", "bonus_share", "locked_share", "rollback_rate"}


def read_scenario(path: Path) -> Scenario:
    try:
        doc = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"scenario {path}: {exc}") from None
    return parse_scenario(doc, str(path))


def parse_scenario(doc: dict, where: str = "<scenario>", registry=None) -> Scenario:
    """registry: the event types a [journey] may use (default: the installed ones)."""
    from simulator.clients.scenario.faults import KNOWN as FAULTS, TYPE_FAULTS  # the registry decides which names are known

    def fail(msg: str):
        raise ScenarioError(f"scenario {where}: {msg}")

    for key in doc:
        if key not in _TOP:
            fail(f"unknown key {key!r}; expected one of {', '.join(sorted(_TOP))}")
    for key in ("name", "description", "seed"):
        if key not in doc:
            fail(f"missing {key!r}")
    name, description = doc["name"], doc["description"]
    if not isinstance(name, str) or not name or not isinstance(description, str):
        fail("name and description must be text")
    seed = _int(doc["seed"], "seed", fail, low=0)
    players = _int(doc.get("players", 20), "players", fail, low=1)
    count = _int(doc.get("count", 1000), "count", fail, low=1)
    currencies = _weights(doc.get("currencies", {"EUR": 1}), "currencies", fail)
    from simulator.clients.scenario.games import EXCHANGE_RATES

    for code in currencies:
        if code not in EXCHANGE_RATES:
            fail(f"currencies: {code!r} is not one the engine prices; expected some of "
                 f"{', '.join(sorted(EXCHANGE_RATES))}")
    games = _weights(doc.get("games", {"slots": 1}), "games", fail)
    for kind in games:
        if kind not in GAME_TYPES:
            fail(f"games: unknown game type {kind!r}; expected some of {', '.join(GAME_TYPES)}")
    play_doc = doc.get("play", {})
    if not isinstance(play_doc, dict):
        fail("play: expected a table")
    for key in play_doc:
        if key not in _PLAY:
            fail(f"play: unknown key {key!r}; expected one of {', '.join(sorted(_PLAY))}")
    base = Play()
    play = Play(
        sessions=_range(play_doc.get("sessions", base.sessions), "play.sessions", fail, int),
        rounds=_range(play_doc.get("rounds", base.rounds), "play.rounds", fail, int),
        deposit=_range(play_doc.get("deposit", [str(x) for x in base.deposit]), "play.deposit", fail, _money),
        bonus_share=_chance(play_doc.get("bonus_share", base.bonus_share), "play.bonus_share", fail),
        locked_share=_chance(play_doc.get("locked_share", base.locked_share), "play.locked_share", fail),
        rollback_rate=_chance(play_doc.get("rollback_rate", base.rollback_rate), "play.rollback_rate", fail))
    faults_doc = doc.get("faults", {})
    if not isinstance(faults_doc, dict):
        fail("faults: expected a table of fault = rate")
    faults = {}
    for kind, rate in faults_doc.items():
        if kind not in FAULTS:
            fail(f"faults: unknown fault {kind!r}; expected some of {', '.join(FAULTS)}")
        faults[kind] = _chance(rate, f"faults.{kind}", fail)
    if sum(faults.values()) > 1:
        fail(f"faults: the rates add up to {sum(faults.values()):g}; expected at most 1 (one fault per message)")
    late = _range(doc.get("late_seconds", [3, 8]), "late_seconds", fail, float)
    journey = _journey(doc["journey"], fail, registry) if "journey" in doc else None
    for kind in faults:
        if kind in TYPE_FAULTS and journey is None:
            fail(f"faults.{kind}: a fault of the {TYPE_FAULTS[kind].marker} type needs a [journey] table "
                 f"(casino-only scenarios send no {TYPE_FAULTS[kind].marker})")
    return Scenario(name, description, seed, players, count, currencies, games, play, faults, late, where,
                    journey)


_JOURNEY = {f.name for f in fields(Journey)}


def _journey(doc, fail, registry=None) -> Journey:
    if not isinstance(doc, dict):
        fail("journey: expected a table of step = chance")
    for key in doc:
        if key not in _JOURNEY:
            fail(f"journey: unknown key {key!r}; expected one of {', '.join(sorted(_JOURNEY))}")
    journey = Journey(**{k: _chance(v, f"journey.{k}", fail) for k, v in doc.items()})
    from simulator.contract.registry import load_registry

    types = (registry or load_registry()).types
    for step, names in journey.type_names.items():
        for name in names:
            if name not in types or types[name].generate is None:
                fail(f"journey.{step}: the {name} type is not installed or offers no scenario generator "
                     f"(simulator/types/{name}/scenario.py); set it to 0 or add one")
    return journey


def _int(value, what, fail, low=None):
    if isinstance(value, bool) or not isinstance(value, int) or (low is not None and value < low):
        fail(f"{what}: expected a whole number{f' >= {low}' if low is not None else ''}, got {value!r}")
    return value


def _chance(value, what, fail) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        fail(f"{what}: expected a chance between 0 and 1, got {value!r}")
    return float(value)


def _money(value) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))


def _range(value, what, fail, kind):
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        fail(f"{what}: expected [low, high], got {value!r}")
    try:
        low, high = kind(value[0]), kind(value[1])
    except (ValueError, ArithmeticError, TypeError):
        fail(f"{what}: expected two numbers, got {value!r}")
    if low < 0 or low > high:
        fail(f"{what}: expected 0 <= low <= high, got {value!r}")
    return low, high


def _weights(value, what, fail) -> dict:
    if not isinstance(value, dict) or not value:
        fail(f"{what}: expected a table of name = weight")
    for k, w in value.items():
        if isinstance(w, bool) or not isinstance(w, (int, float)) or w < 0:
            fail(f"{what}.{k}: expected a weight >= 0, got {w!r}")
    if not any(value.values()):
        fail(f"{what}: at least one weight must be above 0")
    return {k: float(w) for k, w in value.items()}
