"""Scenario traffic: the player's balances as the wallet stands now.

real_money is the wallet's real and locked money (a locked wallet is the player's own money held back),
bonus_money its bonus money; each key once, in the account currency.
"""
from __future__ import annotations


def generate(ctx, **want) -> list[dict]:
    w = ctx.wallet
    return [{"user_id": ctx.user_id, "timestamp": None, "origin": ctx.origin, "balances": [
        {"key": "real_money", "amount": w.real + w.locked, "currency": ctx.currency,
         "exchange_rate": ctx.exchange_rate},
        {"key": "bonus_money", "amount": w.bonus, "currency": ctx.currency, "exchange_rate": ctx.exchange_rate}]}]
