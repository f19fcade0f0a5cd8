"""Scenario traffic: a session on the sportsbook, its bets placed and, once the matches are played, settled.

The journey gives the player (ctx.wallet can pay at least the smallest stake; it tops it up before) and a
session id; this draws stakes from the wallet as casino bets do (real money, then bonus, then locked), and
pays each won bet back in the same proportions, so amount = wager + bonus + locked on every event and
balance_before/after follow the wallet. A Settlement names its Bet by activity_id_reference and carries its
own activity_id, so the bet ledger joins them and a retry of either is told apart from the other.
"""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from simulator.core.money import cents, split

ZERO = Decimal("0.00")
STAKES = ("1.00", "2.00", "5.00", "10.00", "20.00")  # EUR, scaled to the player's currency
SPORTS = {"Football": ("Premier League", "La Liga", "Bundesliga"), "Tennis": ("ATP Tour", "WTA Tour"),
          "Basketball": ("NBA", "EuroLeague"), "Ice Hockey": ("NHL", "SHL")}
MARKETS = (("1X2", "Full Time", ("Home", "Draw", "Away")), ("Over/Under 2.5", "Total Goals", ("Over", "Under")),
           ("Moneyline", "Match", ("Home", "Away")))





def _leg(ctx) -> dict:
    sport = ctx.rng.choice(sorted(SPORTS))
    market, criterion, labels = ctx.rng.choice(MARKETS)
    today = ctx.clock().replace(hour=0, minute=0, second=0, microsecond=0)  # the day, so a seed gives one stream
    start = today + timedelta(hours=ctx.rng.randint(30, 120))
    return {"event_name": f"{ctx.fake.city()} - {ctx.fake.city()}",
            "match_start": start.isoformat(timespec="seconds").replace("+00:00", "Z"),
            "odds": cents(Decimal(str(ctx.rng.uniform(1.15, 4.5)))), "market": market, "sports_name": sport,
            "tournament_name": ctx.rng.choice(SPORTS[sport]), "is_live": ctx.rng.random() < 0.2,
            "is_free_bet": False, "is_risk_free_bet": False,
            "outcomes": [{"criterion_name": criterion, "outcome_label": ctx.rng.choice(labels)}]}


def _event(ctx, session, kind, amount, parts, before, legs, bet_type, odds, **more) -> dict:
    out = {"activity_id": ctx.new_id("sb"), "user_id": ctx.user_id, "timestamp": None, "origin": ctx.origin,
           "type": kind, "status": "Approved", "amount": amount, "wager_amount": parts[0],
           "bonus_wager_amount": parts[1], "locked_wager_amount": parts[2], "currency": ctx.currency,
           "exchange_rate": ctx.exchange_rate, "bet_type": bet_type, "bets": legs, "odds": odds,
           "balance_before": before, "balance_after": ctx.wallet.total, "device_type": "mobile",
           "sportsbook_vendor_name": "Kambi", "meta": {**ctx.meta(), "session": session}}
    out.update(more)
    return out


def generate(ctx, *, session: str | None = None, bets: tuple[int, int] = (1, 3), **want) -> list[dict]:
    w, rng = ctx.wallet, ctx.rng
    session = session or ctx.fake.uuid4()
    least = cents(Decimal(STAKES[0]) / ctx.exchange_rate)
    placed = []
    for _ in range(rng.randint(*bets)):
        stake = cents(Decimal(rng.choice(STAKES)) / ctx.exchange_rate)
        if stake > w.total:
            stake = least
            if stake > w.total:
                break
        legs = [_leg(ctx) for _ in range(rng.choice((1, 1, 2, 3)))]
        bet_type = "Single" if len(legs) == 1 else "Multi"
        odds = Decimal(1)
        for leg in legs:
            odds *= leg["odds"]
        odds = cents(odds)
        before = w.total
        parts = w.take(stake)
        placed.append(_event(ctx, session, "Bet", stake, parts, before, legs, bet_type, odds))
    settled = []
    for bet in placed:
        won = rng.random() < 1 / float(bet["odds"])
        payout = cents(bet["amount"] * bet["odds"]) if won else ZERO
        parts = split(payout, (bet["wager_amount"], bet["bonus_wager_amount"], bet["locked_wager_amount"]))
        before = w.total
        w.give(parts)
        settled.append(_event(
            ctx, session, "Settlement", payout, parts, before, bet["bets"], bet["bet_type"], bet["odds"],
            activity_id_reference=bet["activity_id"], settlement_type="Won" if won else "Lost",
            reference_bet_amount=bet["amount"], reference_bet_real_amount=bet["wager_amount"],
            reference_bet_bonus_amount=bet["bonus_wager_amount"],
            reference_bet_locked_amount=bet["locked_wager_amount"], reference_bet_exchange_rate=bet["exchange_rate"],
            is_cashout=False))
    return placed + settled
