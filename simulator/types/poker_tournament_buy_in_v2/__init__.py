"""POKER_TOURNAMENT_BUY_IN_V2: brokers only (FT's docs name no REST path); the family's code is in simulator/types/_poker.py."""
from simulator.types._poker import poker_type

TYPE = poker_type("poker_tournament_buy_in_v2", "POKER_TOURNAMENT_BUY_IN_V2", "tournament", "buy_in")
