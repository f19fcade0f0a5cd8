"""POKER_CASH_GAME_CASH_OUT_V2: brokers only (FT's docs name no REST path); the family's code is in simulator/types/_poker.py."""
from simulator.types._poker import poker_type

TYPE = poker_type("poker_cash_game_cash_out_v2", "POKER_CASH_GAME_CASH_OUT_V2", "cash_game", "cash_out")
