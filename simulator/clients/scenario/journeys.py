"""Players and their journeys: the clean stream of casino events a scenario describes, seeded.

Each player has a currency, a wallet (real, bonus and locked money) and a number of sessions; a session
is a run of rounds of one game. A round is bets then a settling win with is_round_end=true; bets draw on
the wallet and the win is paid back in the same proportions, so amount = wager_amount +
bonus_wager_amount + locked_wager_amount always holds and balance_before/after follow the wallet. Some
rounds have a bet rolled back by the platform, or a win corrected after the end. Players play at the same
time: the stream interleaves them, and a player who leaves is replaced by a new one, so it never ends.

Everything random comes from one `random.Random(seed)` and one seeded Faker: the same scenario and
namespace give the same stream, message for message (timestamps are set when a message is sent).
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from decimal import Decimal
from typing import Iterator

from faker import Faker

from simulator.clients.scenario.games import BY_KIND, EXCHANGE_RATES, Game
from simulator.clients.scenario.planned import MARKER, Planned
from simulator.clients.scenario.spec import GAME_TYPES, Scenario
from simulator.core.money import cents, split

ZERO = Decimal("0.00")
PARTS = ("wager_amount", "bonus_wager_amount", "locked_wager_amount")



class Ids:
    """Fresh ids in a namespace, so two runs of one scenario against one ftsim never collide."""

    def __init__(self, namespace: str):
        self.prefix = f"{namespace}-" if namespace else ""
        self._activity = self._round = self._user = 0
        self._other: dict[str, int] = {}

    def make(self, kind: str) -> str:
        """A fresh id of another kind (payment, bonus ...), counted apart from activities and rounds."""
        n = self._other[kind] = self._other.get(kind, 0) + 1
        return f"{self.prefix}{kind}{n:07d}"

    def activity(self) -> str:
        self._activity += 1
        return f"{self.prefix}a{self._activity:07d}"

    def round(self) -> str:
        self._round += 1
        return f"{self.prefix}r{self._round:06d}"

    def user(self) -> str:
        self._user += 1
        return f"{self.prefix}{52529 + self._user}"


@dataclass
class Wallet:
    real: Decimal
    bonus: Decimal
    locked: Decimal

    @property
    def total(self) -> Decimal:
        return self.real + self.bonus + self.locked

    def take(self, stake: Decimal) -> tuple[Decimal, Decimal, Decimal]:
        """Draw a stake: real money first, then bonus, then the locked wallet."""
        parts = []
        left = stake
        for name in ("real", "bonus", "locked"):
            have = getattr(self, name)
            part = min(have, left)
            setattr(self, name, have - part)
            parts.append(part)
            left -= part
        return parts[0], parts[1], parts[2]

    def give(self, parts) -> None:
        self.real += parts[0]
        self.bonus += parts[1]
        self.locked += parts[2]


@dataclass
class Player:
    user_id: str
    currency: str
    rate: Decimal
    wallet: Wallet
    sessions: int
    device: str
    deposits: int = 0  # journeys (lifecycle.py): payments so far, sent as deposit_count / withdraw_count
    withdrawals: int = 0


class Engine:
    """Builds players and their events; `stream()` interleaves them forever."""

    def __init__(self, scenario: Scenario, namespace: str = ""):
        self.sc = scenario
        self.rng = random.Random(scenario.seed)
        self.fake = Faker()
        self.fake.seed_instance(scenario.seed)
        self.ids = Ids(namespace)
        self.namespace = namespace
        self.origin = f"www.{self.fake.domain_name()}"
        self._currencies = list(scenario.currencies)
        self._currency_weights = list(scenario.currencies.values())
        self._kinds = [k for k in scenario.games if BY_KIND.get(k)]
        self._kind_weights = [scenario.games[k] for k in self._kinds]

    # -- players -------------------------------------------------------------------------------

    def new_player(self) -> Player:
        rng, play = self.rng, self.sc.play
        currency = rng.choices(self._currencies, self._currency_weights)[0]
        rate = EXCHANGE_RATES[currency]
        real = self.money(rng.uniform(float(play.deposit[0]), float(play.deposit[1])), rate)
        bonus = self.money(rng.choice((10, 20, 50, 100)), rate) if rng.random() < play.bonus_share else ZERO
        locked = self.money(rng.choice((25, 50, 100)), rate) if rng.random() < play.locked_share else ZERO
        return Player(self.ids.user(), currency, rate, Wallet(real, bonus, locked),
                      rng.randint(*play.sessions) or 1, self.fake.random_element(("desktop", "mobile", "tablet")))

    def money(self, eur, rate: Decimal) -> Decimal:
        """An amount in EUR expressed in the player's currency, to the cent."""
        return cents(Decimal(str(eur)) / rate)

    # -- events ------------------------------------------------------------------------------------

    def journey(self, p: Player) -> Iterator[dict]:
        rng = self.rng
        for _ in range(p.sessions):
            kind = rng.choices(self._kinds, self._kind_weights)[0]
            game = rng.choice(BY_KIND[kind])
            session = self.fake.uuid4()
            for _ in range(rng.randint(*self.sc.play.rounds) or 1):
                yield from self.round(p, game, session)

    def round(self, p: Player, game: Game, session: str) -> Iterator[dict]:
        rng = self.rng
        min_stake = self.money(game.stakes[0], p.rate)
        if p.wallet.total < min_stake:  # a deposit between rounds: no casino event, the balance moves
            deposit = self.money(rng.uniform(*map(float, self.sc.play.deposit)), p.rate)
            p.wallet.real += max(deposit, min_stake)
        round_id = self.ids.round()
        bets = []
        for _ in range(rng.randint(*game.bets)):
            stake = self.money(rng.choice(game.stakes), p.rate)
            if stake > p.wallet.total:
                stake = min_stake
                if stake > p.wallet.total:
                    break
            before = p.wallet.total
            parts = p.wallet.take(stake)
            ev = self.event(p, game, session, round_id, "Bet", parts, before, False)
            bets.append(ev)
            yield ev
        rollback_bet = len(bets) > 1 and rng.random() < self.sc.play.rollback_rate
        if rollback_bet:  # the platform cancels one bet of the round (a rejected side bet) and refunds it
            cancelled = bets.pop(rng.randrange(len(bets)))
            parts = tuple(cancelled[k] for k in PARTS)
            before = p.wallet.total
            p.wallet.give(parts)
            yield self.event(p, game, session, round_id, "Bet", parts, before, False,
                             activity_id=cancelled["activity_id"], status="Rollback")
        staked = [sum((b[k] for b in bets), ZERO) for k in PARTS]
        total = sum(staked, ZERO)
        win = ZERO
        if total and rng.random() < game.hit_rate:
            win = cents(total * Decimal(str(rng.choice(game.pays))))
        parts = split(win, staked)
        before = p.wallet.total
        p.wallet.give(parts)
        settle = self.event(p, game, session, round_id, "Win", parts, before, True)
        yield settle
        if win and not rollback_bet and rng.random() < self.sc.play.rollback_rate:
            before = p.wallet.total  # a correction after the end: the win is taken back
            p.wallet.take(win)
            yield self.event(p, game, session, round_id, "Win", parts, before, True,
                             activity_id=settle["activity_id"], status="Rollback")

    def event(self, p: Player, game: Game, session: str, round_id: str, kind: str, parts, before: Decimal,
              round_end: bool, activity_id: str | None = None, status: str = "Approved") -> dict:
        return {
            "activity_id": activity_id or self.ids.activity(),
            "amount": parts[0] + parts[1] + parts[2],
            "wager_amount": parts[0], "bonus_wager_amount": parts[1], "locked_wager_amount": parts[2],
            "balance_before": before, "balance_after": p.wallet.total,
            "currency": p.currency, "exchange_rate": p.rate,
            "game_id": game.game_id, "game_name": game.name, "game_type": GAME_TYPES[game.kind],
            "is_round_end": round_end, "origin": self.origin, "round_id": round_id, "status": status,
            "timestamp": None, "type": kind, "user_id": p.user_id,
            "vendor_id": game.vendor_id, "vendor_name": game.vendor_name,
            "meta": {"run": self.namespace, "seq": 0, "session": session, "device": p.device},
        }

    def stream(self) -> Iterator[Planned]:
        """Clean events of all players, interleaved; `farewell` marks a player's last one."""
        rng = self.rng
        table = []  # [player, journey, next event]
        for _ in range(self.sc.players):
            table.append(self._seat())
        while True:
            i = rng.randrange(len(table))
            player, events, (marker, ev) = table[i]
            following = next(events, None)
            if following is None:
                table[i] = self._seat()
            else:
                table[i][2] = following
            yield Planned(0, ev, player.user_id, farewell=following is None, marker=marker)

    def events(self, p: Player) -> Iterator[tuple[str, dict]]:
        """A player's messages as (type marker, payload): casino rounds here; lifecycle.py adds the rest."""
        return ((MARKER, ev) for ev in self.journey(p))

    def _seat(self) -> list:
        while True:
            player = self.new_player()
            events = self.events(player)
            first = next(events, None)
            if first is not None:
                return [player, events, first]


