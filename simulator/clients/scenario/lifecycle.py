"""A player's whole journey across the event types, for scenarios with a [journey] table.

A player registers (USER_CREATE_V2), may answer the consent questions (USER_CONSENTS_V2), deposits
(PAYMENT Requested -> Approved; now and then a deposit is Rejected or Cancelled and they try again), may be
given a bonus (BONUS Created, Ongoing as they play, Completed at the end, its rest turned real), logs in
before each session (LOGIN_V2), sometimes changes their details (USER_UPDATE_V2), plays casino rounds as
journeys.py builds them (a top-up deposit when the wallet runs dry), gets USER_BALANCES_UPDATE after each
money move and session (real_money and bonus_money as the wallet stands), and when leaving may withdraw
what is left (PAYMENT Debit) and block themselves (USER_BLOCK_V2).

The payloads come from each type's own generator (`EventType.generate`, the folder's scenario.py); this
module only decides the order and moves the wallet. A session on the sportsbook (journey.sportsbook) is
the SPORTSBOOK type's generator's to build, given the player and the session.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Iterator

from simulator.contract.registry import load_registry
from simulator.clients.scenario.context import PlayerContext
from simulator.clients.scenario.games import BY_KIND, EXCHANGE_RATES
from simulator.clients.scenario.journeys import ZERO, Engine, Player, Wallet
from simulator.clients.scenario.planned import MARKER
from simulator.clients.scenario.render import utcnow

COUNTRY = {"EUR": ("DE", "FI", "MT", "IE", "NL"), "USD": ("US",), "GBP": ("GB",), "SEK": ("SE",), "NOK": ("NO",),
           "DKK": ("DK",), "CAD": ("CA",), "BRL": ("BR",), "CHF": ("CH",), "PLN": ("PL",), "NZD": ("NZ",)}


class JourneyEngine(Engine):
    def __init__(self, scenario, namespace: str = ""):
        super().__init__(scenario, namespace)
        self.journey = scenario.journey
        self._types = {t.marker: t for t in load_registry()}

    def new_player(self) -> Player:
        """A newcomer with an empty wallet: their money comes from the deposits the journey sends."""
        rng, play = self.rng, self.sc.play
        currency = rng.choices(self._currencies, self._currency_weights)[0]
        return Player(self.ids.user(), currency, EXCHANGE_RATES[currency], Wallet(ZERO, ZERO, ZERO),
                      rng.randint(*play.sessions) or 1, self.fake.random_element(("desktop", "mobile", "tablet")))

    def context(self, p: Player) -> PlayerContext:
        return PlayerContext(p.user_id, p.currency, p.rate, self.rng.choice(COUNTRY[p.currency]), p.wallet,
                             self.rng, self.fake, utcnow, self.origin, self.namespace, self.ids.make)

    def step(self, marker: str, ctx: PlayerContext, **want) -> list[tuple[str, dict]]:
        return [(marker, payload) for payload in self._types[marker].generate(ctx, **want)]

    def chance(self, rate: float) -> bool:
        return rate > 0 and self.rng.random() < rate

    # -- the journey ---------------------------------------------------------------------------------

    def events(self, p: Player) -> Iterator[tuple[str, dict]]:
        j, rng = self.journey, self.rng
        ctx = self.context(p)
        yield from self.step("USER_CREATE_V2", ctx)
        if self.chance(j.consents):
            yield from self.step("USER_CONSENTS_V2", ctx)
        first = self.money(rng.uniform(*map(float, self.sc.play.deposit)), p.rate)
        yield from self.deposit(p, ctx, first)
        bonus = None
        if self.chance(j.bonus):
            amount = self.money(rng.choice((10, 20, 50, 100)), p.rate)
            (marker, bonus), = self.step("BONUS", ctx, status="Created", amount=amount)
            yield marker, bonus
            p.wallet.bonus += amount
            yield from self.balances(ctx)
        for _ in range(p.sessions):
            if self.chance(j.login):
                yield from self.step("LOGIN_V2", ctx)
            if self.chance(j.update):
                yield from self.step("USER_UPDATE_V2", ctx)
            if self.chance(j.sportsbook):  # the SPORTSBOOK type's generator builds the session and moves the wallet
                yield from self.step("SPORTSBOOK", ctx, session=self.fake.uuid4())
            else:
                yield from self.casino_session(p, ctx)
            yield from self.balances(ctx)
            if bonus is not None:
                yield from self.step("BONUS", ctx, status="Ongoing", bonus=bonus)
        if bonus is not None:  # wagering done: what is left of the bonus becomes real money
            left = p.wallet.bonus
            p.wallet.real, p.wallet.bonus = p.wallet.real + left, ZERO
            yield from self.step("BONUS", ctx, status="Completed", bonus=bonus, turned_real=left)
            yield from self.balances(ctx)
        if p.wallet.real > 0 and self.chance(j.withdraw):
            amount = p.wallet.real
            p.withdrawals += 1
            yield from self.step("PAYMENT", ctx, kind="withdrawal", amount=amount, count=p.withdrawals)
            p.wallet.real -= amount
            yield from self.balances(ctx)
        if self.chance(j.block):
            yield from self.step("USER_BLOCK_V2", ctx)

    def casino_session(self, p: Player, ctx: PlayerContext) -> Iterator[tuple[str, dict]]:
        """One session of rounds of one game, as journeys.py plays them, with a top-up deposit (a PAYMENT)
        whenever the wallet cannot pay the game's smallest stake."""
        rng = self.rng
        kind = rng.choices(self._kinds, self._kind_weights)[0]
        game = rng.choice(BY_KIND[kind])
        session = self.fake.uuid4()
        for _ in range(rng.randint(*self.sc.play.rounds) or 1):
            least = self.money(game.stakes[0], p.rate)
            if p.wallet.total < least:
                amount = self.money(rng.uniform(*map(float, self.sc.play.deposit)), p.rate)
                yield from self.deposit(p, ctx, max(amount, least))
            for ev in self.round(p, game, session):
                yield MARKER, ev

    def deposit(self, p: Player, ctx: PlayerContext, amount: Decimal) -> Iterator[tuple[str, dict]]:
        """A deposit that ends Approved; before it, now and then, one the provider Rejected or the player
        Cancelled (no money moves for that one)."""
        if self.chance(self.journey.declined):
            p.deposits += 1
            yield from self.step("PAYMENT", ctx, kind="deposit", amount=amount, count=p.deposits,
                                 outcome=self.rng.choice(("Rejected", "Cancelled")))
        p.deposits += 1
        yield from self.step("PAYMENT", ctx, kind="deposit", amount=amount, count=p.deposits)
        p.wallet.real += amount
        yield from self.balances(ctx)

    def balances(self, ctx: PlayerContext) -> Iterator[tuple[str, dict]]:
        if self.chance(self.journey.balances):
            yield from self.step("USER_BALANCES_UPDATE", ctx)
