"""A player's whole journey across the event types, for scenarios with a [journey] table.

A player registers (USER_CREATE_V2), may answer the consent questions (USER_CONSENTS_V2), deposits
(PAYMENT Requested -> Approved; now and then a deposit is Rejected or Cancelled and they try again), may be
given a bonus (BONUS Created, Ongoing as they play, Completed at the end, its rest turned real), logs in
before each session (LOGIN_V2), sometimes changes their details (USER_UPDATE_V2), plays casino rounds as
journeys.py builds them (a top-up deposit when the wallet runs dry), gets USER_BALANCES_UPDATE after each
money move and session (real_money and bonus_money as the wallet stands), and when leaving may withdraw
what is left (PAYMENT Debit) and block themselves (USER_BLOCK_V2).

The other products and the operator's own events fit in the same life: some players arrive migrated from
another platform (USER_MIGRATION, then USER_MIGRATION_APPROVE, instead of registering), get tagged
(USER_TAG) and see operator-defined events (CUSTOM) now and then, play a session on the sportsbook
instead of the casino (bets placed, then settled), and before leaving may buy lottery tickets (the older
LOTTERY_V2 shape, or a lines-shape Bet and its Settlement), check out a cart, or play poker (a buy-in,
then its cash-out). Before any player, the run announces some of the casino's games (GAME: catalogue
updates, with no user).

The payloads come from each type's own generator (`EventType.generate`, the folder's scenario.py); this
module only decides the order and moves the wallet (the sportsbook's generator moves it for its bets).
Over REST the brokers-only types (no method and path) are left out: a migrated player registers instead.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Iterator

from simulator.contract.registry import load_registry
from simulator.clients.scenario.context import PlayerContext
from simulator.clients.scenario.games import BY_KIND, EXCHANGE_RATES, LIBRARY
from simulator.clients.scenario.journeys import ZERO, Engine, Player, Wallet
from simulator.clients.scenario.planned import MARKER, Planned
from simulator.clients.scenario.render import utcnow

COUNTRY = {"EUR": ("DE", "FI", "MT", "IE", "NL"), "USD": ("US",), "GBP": ("GB",), "SEK": ("SE",), "NOK": ("NO",),
           "DKK": ("DK",), "CAD": ("CA",), "BRL": ("BR",), "CHF": ("CH",), "PLN": ("PL",), "NZD": ("NZ",)}


class JourneyEngine(Engine):
    def __init__(self, scenario, namespace: str = "", channel: str | None = None):
        super().__init__(scenario, namespace)
        self.journey = scenario.journey
        registry = load_registry()
        self._types = {t.name: t for t in registry}
        # what the channel carries: over REST only types with a method and path; a broker takes every type
        self._carried = {t.name for t in registry if channel != "rest" or t.path is not None}

    def new_player(self) -> Player:
        """A newcomer with an empty wallet: their money comes from the deposits the journey sends."""
        rng, play = self.rng, self.sc.play
        currency = rng.choices(self._currencies, self._currency_weights)[0]
        return Player(self.ids.user(), currency, EXCHANGE_RATES[currency], Wallet(ZERO, ZERO, ZERO),
                      rng.randint(*play.sessions) or 1, self.fake.random_element(("desktop", "mobile", "tablet")))

    def context(self, p: Player) -> PlayerContext:
        return PlayerContext(p.user_id, p.currency, p.rate, self.rng.choice(COUNTRY[p.currency]), p.wallet,
                             self.rng, self.fake, utcnow, self.origin, self.namespace, self.ids.make)

    def step(self, name: str, ctx: PlayerContext, **want) -> list[tuple[str, dict]]:
        """One step by the type's name (two types share the marker LOTTERY_V2); nothing when the channel
        cannot carry the type."""
        if name not in self._carried:
            return []
        t = self._types[name]
        return [(t.marker, payload) for payload in t.generate(ctx, **want)]

    def carries(self, name: str) -> bool:
        return name in self._carried

    def stream(self):
        """The catalogue first (some games of the library, once), then the players."""
        yield from self.catalogue()
        yield from super().stream()

    def catalogue(self):
        if not self.journey.catalog:
            return
        ctx = PlayerContext(None, "EUR", EXCHANGE_RATES["EUR"], "MT", Wallet(ZERO, ZERO, ZERO), self.rng, self.fake,
                            utcnow, self.origin, self.namespace, self.ids.make)
        for game in LIBRARY:
            if self.chance(self.journey.catalog):
                for marker, payload in self.step("game", ctx, game_id=f"{self.ids.prefix}{game.game_id}",
                                                 title=game.name, kind=game.kind, provider=game.vendor_name):
                    yield Planned(0, payload, payload["game_id"], marker=marker)

    def chance(self, rate: float) -> bool:
        return rate > 0 and self.rng.random() < rate

    # -- the journey ---------------------------------------------------------------------------------

    def events(self, p: Player) -> Iterator[tuple[str, dict]]:
        j, rng = self.journey, self.rng
        ctx = self.context(p)
        if self.chance(j.migration) and self.carries("user_migration"):
            yield from self.step("user_migration", ctx)
            yield from self.step("user_migration_approve", ctx)
        else:
            yield from self.step("user_create_v2", ctx)
        if self.chance(j.consents):
            yield from self.step("user_consents_v2", ctx)
        first = self.money(rng.uniform(*map(float, self.sc.play.deposit)), p.rate)
        yield from self.deposit(p, ctx, first)
        bonus = None
        if self.chance(j.bonus):
            amount = self.money(rng.choice((10, 20, 50, 100)), p.rate)
            (marker, bonus), = self.step("bonus", ctx, status="Created", amount=amount)
            yield marker, bonus
            p.wallet.bonus += amount
            yield from self.balances(ctx)
        for _ in range(p.sessions):
            if self.chance(j.login):
                yield from self.step("login_v2", ctx)
            if self.chance(j.update):
                yield from self.step("user_update_v2", ctx)
            if self.chance(j.tags):
                yield from self.step("user_tags", ctx)
            if self.chance(j.custom):
                yield from self.step("custom", ctx)
            if self.chance(j.sportsbook):  # the SPORTSBOOK type's generator builds the session and moves the wallet
                yield from self.top_up(p, ctx, self.money(5, p.rate))
                yield from self.step("sportsbook", ctx, session=self.fake.uuid4())
            else:
                yield from self.casino_session(p, ctx)
            yield from self.balances(ctx)
            if bonus is not None:
                yield from self.step("bonus", ctx, status="Ongoing", bonus=bonus)
        yield from self.other_products(p, ctx)
        if bonus is not None:  # wagering done: what is left of the bonus becomes real money
            left = p.wallet.bonus
            p.wallet.real, p.wallet.bonus = p.wallet.real + left, ZERO
            yield from self.step("bonus", ctx, status="Completed", bonus=bonus, turned_real=left)
            yield from self.balances(ctx)
        if p.wallet.real > 0 and self.chance(j.withdraw):
            amount = p.wallet.real
            p.withdrawals += 1
            yield from self.step("payment", ctx, kind="withdrawal", amount=amount, count=p.withdrawals)
            p.wallet.real -= amount
            yield from self.balances(ctx)
        if self.chance(j.block):
            yield from self.step("user_block_v2", ctx)

    def other_products(self, p: Player, ctx: PlayerContext) -> Iterator[tuple[str, dict]]:
        """Poker, lottery and a cart before leaving. Poker's events carry no amount, so no money moves; a
        lottery ticket or a cart is bought only with real money the wallet has (it is paid from the account)."""
        j, rng = self.journey, self.rng
        if self.chance(j.poker):
            game = rng.choice(("cash_game", "tournament"))
            yield from self.step(f"poker_{game}_buy_in_v2", ctx)
            yield from self.step(f"poker_{game}_cash_out_v2", ctx)
        if self.chance(j.lottery):
            yield from self.purchase(p, ctx, self.step("lottery", ctx))
        if self.chance(j.lottery_v2):
            yield from self.purchase(p, ctx, self.step("lottery_v2", ctx))
        if self.chance(j.cart):
            yield from self.purchase(p, ctx, self.step("cart", ctx))

    def purchase(self, p: Player, ctx: PlayerContext, steps: list[tuple[str, dict]]) -> Iterator[tuple[str, dict]]:
        """A purchase's events if the real money covers its price (the first event's amount); a lines-shape
        ticket's Settlement pays its win back. Nothing when the player cannot pay."""
        if not steps or steps[0][1]["amount"] > p.wallet.real:
            return
        for marker, payload in steps:
            if payload.get("type") == "Settlement":
                p.wallet.real += payload["amount"]
            else:
                p.wallet.real -= payload["amount"] - payload.get("discount_amount", ZERO)
            yield marker, payload
        yield from self.balances(ctx)

    def top_up(self, p: Player, ctx: PlayerContext, least: Decimal) -> Iterator[tuple[str, dict]]:
        if p.wallet.total < least:
            amount = self.money(self.rng.uniform(*map(float, self.sc.play.deposit)), p.rate)
            yield from self.deposit(p, ctx, max(amount, least))

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
            yield from self.step("payment", ctx, kind="deposit", amount=amount, count=p.deposits,
                                 outcome=self.rng.choice(("Rejected", "Cancelled")))
        p.deposits += 1
        yield from self.step("payment", ctx, kind="deposit", amount=amount, count=p.deposits)
        p.wallet.real += amount
        yield from self.balances(ctx)

    def balances(self, ctx: PlayerContext) -> Iterator[tuple[str, dict]]:
        if self.chance(self.journey.balances):
            yield from self.step("user_balances_update", ctx)
