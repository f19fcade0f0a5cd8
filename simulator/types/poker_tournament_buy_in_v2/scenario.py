"""Scenario traffic: one Approved poker event of the player (simulator/types/_poker_scenario.py)."""
from simulator.types._poker_scenario import generate

__all__ = ["generate"]
