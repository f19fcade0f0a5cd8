"""POKER_TOURNAMENT_CASH_OUT_V2: brokers only (FT's docs name no REST path); the family's code is in simulator/types/_poker.py."""
from simulator.types._poker import poker_type

TYPE = poker_type("poker_tournament_cash_out_v2", "POKER_TOURNAMENT_CASH_OUT_V2", "tournament", "cash_out")
