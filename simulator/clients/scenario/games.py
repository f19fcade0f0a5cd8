"""The games players play and what a round of each looks like; prices of the currencies they pay in.

A round's shape follows its game type: a slot spin is one bet and one win (often zero), a live casino
round takes several bets (main and side bets) before one settling win, a table hand a bet or two
(blackjack's double and split) before the win. The last event of a round carries is_round_end=true.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class Game:
    game_id: str
    name: str
    kind: str  # slots, live or table (spec.GAME_TYPES gives the label sent as game_type)
    vendor_id: str
    vendor_name: str
    stakes: tuple[str, ...]  # the bet sizes a player picks from, in EUR; scaled by the exchange rate
    bets: tuple[int, int]  # bets per round
    hit_rate: float  # chance a round pays anything
    pays: tuple[float, ...]  # multipliers of the round's stake when it pays; one is drawn


LIBRARY: tuple[Game, ...] = (
    Game("10911", "Dead or Alive", "slots", "1", "NetEnt", ("0.20", "0.50", "1.00", "2.00", "5.00"),
         (1, 1), 0.30, (0.5, 1, 1.5, 2, 3, 5, 10, 25, 100)),
    Game("10877", "Starburst", "slots", "1", "NetEnt", ("0.10", "0.20", "0.50", "1.00", "2.00"),
         (1, 1), 0.45, (0.5, 1, 2, 3, 5, 10, 50)),
    Game("20488", "Book of Dead", "slots", "2", "Play'n GO", ("0.10", "0.40", "1.00", "2.00", "10.00"),
         (1, 1), 0.33, (0.5, 1, 2, 5, 10, 20, 250)),
    Game("30117", "Sweet Bonanza", "slots", "3", "Pragmatic Play", ("0.20", "0.40", "1.00", "4.00"),
         (1, 1), 0.40, (0.25, 0.5, 1, 2, 4, 12, 60)),
    Game("50001", "Lightning Roulette", "live", "4", "Evolution", ("1.00", "2.50", "5.00", "10.00", "25.00"),
         (1, 4), 0.42, (2, 3, 6, 12, 36, 50, 100)),
    Game("50002", "Crazy Time", "live", "4", "Evolution", ("0.50", "1.00", "2.00", "5.00"),
         (1, 4), 0.38, (1, 2, 5, 10, 25, 50)),
    Game("50017", "Live Blackjack A", "live", "4", "Evolution", ("5.00", "10.00", "25.00", "50.00"),
         (1, 3), 0.47, (1.5, 2, 2.5)),
    Game("70001", "European Roulette", "table", "1", "NetEnt", ("1.00", "2.00", "5.00", "10.00"),
         (1, 3), 0.45, (2, 3, 36)),
    Game("70002", "Blackjack Classic", "table", "2", "Play'n GO", ("2.00", "5.00", "10.00", "20.00"),
         (1, 2), 0.46, (1.5, 2, 2.5)),
    Game("70003", "Baccarat Pro", "table", "5", "Microgaming", ("1.00", "5.00", "10.00"),
         (1, 2), 0.49, (1.95, 2, 9)),
)

BY_KIND: dict[str, tuple[Game, ...]] = {k: tuple(g for g in LIBRARY if g.kind == k) for k in ("slots", "live", "table")}

# EUR per unit of the currency, as the exchange_rate field carries it (rounded; realistic, not live).
EXCHANGE_RATES: dict[str, Decimal] = {
    "EUR": Decimal("1"), "USD": Decimal("0.92"), "GBP": Decimal("1.17"), "SEK": Decimal("0.087"),
    "NOK": Decimal("0.086"), "DKK": Decimal("0.134"), "CAD": Decimal("0.68"), "BRL": Decimal("0.18"),
    "CHF": Decimal("1.04"), "PLN": Decimal("0.23"), "NZD": Decimal("0.56")
}
