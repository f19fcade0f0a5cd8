"""Scenario traffic: a lottery ticket in the lines shape, its Bet and, after the draw, its Settlement.

The journey checks the player can pay (real money) and moves the wallet by the Bet's and the Settlement's
amounts; this builds the two events of one ticket_id and draw_id (digits only, as the schema wants: a
number drawn from the run's namespace keeps runs apart). Matched numbers are numbers the line played.
"""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

LOTTERIES = (("1", "Eurojackpot", "2.00", 50, 5, 12, 2), ("2", "Lotto 6aus49", "1.20", 49, 6, 10, 1))


def generate(ctx, **want) -> list[dict]:
    lottery_id, name, price, top, picks, stop, specials = ctx.rng.choice(LOTTERIES)
    draw_day = ctx.clock().replace(hour=20, minute=0, second=0, microsecond=0) + timedelta(days=ctx.rng.randint(1, 6))
    drawn = sorted(ctx.rng.sample(range(1, top + 1), picks))
    drawn_special = sorted(ctx.rng.sample(range(1, stop + 1), specials))
    lines, won = [], Decimal("0.00")
    for i in range(ctx.rng.randint(1, 4)):
        numbers = sorted(ctx.rng.sample(range(1, top + 1), picks))
        special = sorted(ctx.rng.sample(range(1, stop + 1), specials))
        matched = [n for n in numbers if n in drawn]
        matched_special = [n for n in special if n in drawn_special]
        winning = len(matched) >= 3
        if winning:
            won += Decimal(10 ** (len(matched) - 2))
        lines.append({"line_id": i + 1, "numbers": numbers, "special_numbers": special, "is_quick_pick": ctx.rng.random() < 0.5,
                      "is_free_bet": False, "matched_numbers": matched, "matched_special_numbers": matched_special,
                      "is_winning_line": winning})
    cost = (Decimal(price) * len(lines) / ctx.exchange_rate).quantize(Decimal("0.01"))
    won = (won / ctx.exchange_rate).quantize(Decimal("0.01"))
    base = {"user_id": ctx.user_id, "timestamp": None, "origin": ctx.origin, "currency": ctx.currency,
            "exchange_rate": ctx.exchange_rate, "lottery_id": lottery_id, "lottery_name": name,
            "lottery_type": "draw", "ticket_id": str(ctx.new_number("ticket")), "draw_id": str(ctx.new_number("draw")),
            "draw_date": draw_day.isoformat().replace("+00:00", "Z"), "device_type": "desktop"}
    played = [{k: v for k, v in line.items() if not k.startswith("matched") and k != "is_winning_line"} for line in lines]
    bet = {**base, "type": "Bet", "amount": cost, "lines": played, "meta": ctx.meta()}
    settlement = {**base, "type": "Settlement", "amount": won, "lines": lines, "draw_numbers": drawn,
                  "draw_special_numbers": drawn_special, "meta": ctx.meta()}
    return [bet, settlement]
