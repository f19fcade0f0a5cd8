"""Play the Phoenix Gambling provider (seed 004): `start` and `finish` callbacks to the operator's URL.

Each round is a `start` carrying the bet (answered `{"result": true}` to play, `false` for "No balance"),
then, when it was taken, a `finish` with the game's status (win / lose) and payout (answered `{}`). Bodies
have the seed's shape, `time` in milliseconds. Players, sessions and games come from one seeded Faker and
one `random.Random`, so a scenario with a seed sends the same callbacks every run.
"""
from __future__ import annotations

import http.client
import json
import random
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import ROUND_HALF_UP, Decimal

from faker import Faker

from simulator.core.timefmt import iso

GAMES = {"Mines": 1000, "Plinko": 3500, "Roulette": 2000, "Dice": 1000}  # game -> balanceUpdateDelay (ms)
# scenario -> (games, bet range in major units, share of rounds won, players)
SCENARIOS = {
    "mixed": (("Mines", "Plinko", "Roulette", "Dice"), (0.10, 5.00), 0.45, 25),
    "mines": (("Mines",), (0.10, 2.00), 0.40, 10),
    "roulette": (("Roulette",), (0.50, 10.00), 0.47, 10),
    "highroller": (("Mines", "Plinko"), (20.00, 400.00), 0.45, 5),  # bets that empty wallets: result false
}
CENTS = Decimal("0.01")


@dataclass
class Answers:
    """What the platform's answers broke, by rule id, with the first examples."""
    counts: dict = field(default_factory=dict)
    examples: list = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    refused: int = 0
    sent: int = 0

    def add(self, rule: str, text: str) -> None:
        with self.lock:
            self.counts[rule] = self.counts.get(rule, 0) + 1
            if len(self.examples) < 10:
                self.examples.append(f"{rule}: {text}")


class Provider:
    def __init__(self, callback_url: str, link, *, scenario: str = "mixed", seed: int = 1, timeout: float = 5.0):
        if scenario not in SCENARIOS:
            raise ValueError(f"scenario: expected one of {', '.join(SCENARIOS)}, got {scenario!r}")
        self.url = urllib.parse.urlsplit(callback_url)
        if self.url.scheme not in ("http", "https") or not self.url.hostname:
            raise ValueError(f"callback URL: expected http(s)://host[:port]/path, got {callback_url!r}")
        self.link = link
        self.games, self.bets, self.win_share, players = SCENARIOS[scenario]
        self.rng = random.Random(seed)
        fake = Faker()
        fake.seed_instance(seed)
        self.players = [(str(fake.unique.random_int(10_000, 99_999_999)), self.rng.choice(("EUR", "EUR", "USD")))
                        for _ in range(players)]
        self.sessions: dict[tuple, dict] = {}
        self.timeout = timeout
        self.answers = Answers()
        self._lock = threading.Lock()
        self._n = 0

    # -- what is sent --------------------------------------------------------------------------------

    def next_round(self, worker: int = 0, workers: int = 1) -> tuple[dict, dict]:
        """The start and finish bodies of one round (the finish is sent only if the start was taken).
        A player plays one round at a time: their rounds all go through one worker, in order."""
        with self._lock:
            self._n += 1
            mine = self.players[worker::workers] or self.players
            player, currency = self.rng.choice(mine)
            game = self.rng.choice(self.games)
            key = (player, game)
            session = self.sessions.get(key)
            if session is None or self.rng.random() < 0.05:  # now and then a new session
                session = self.sessions[key] = {"id": f"s-{self.rng.getrandbits(48):012x}", "all": Decimal(0),
                                                "round": 0}
            session["round"] += 1
            bet = Decimal(str(self.rng.uniform(*self.bets))).quantize(CENTS, ROUND_HALF_UP)
            session["all"] += bet
            won = self.rng.random() < self.win_share
            multiplier = Decimal(str(self.rng.uniform(1.1, 6.0))).quantize(CENTS)
            round_data = _round_data(self.rng, bet) if game == "Roulette" else None
            game_id = f"{game.lower()}-{self.rng.getrandbits(64):016x}"
            rnd, all_bets = session["round"], session["all"]
        base = {"session": {"id": session["id"], "playerId": player, "gameId": game, "currency": currency}}
        start = {"type": "start", **base,
                 "game": {"id": game_id, "status": "in_progress", "payout": 0.0, "profit": 0.0, "bet": float(bet),
                          "round": rnd},
                 "data": {"bet": float(bet), "allBetAmount": float(all_bets)}}
        if round_data is not None:
            start["roundData"] = round_data
        payout = (bet * multiplier).quantize(CENTS) if won else Decimal(0)
        finish = {"type": "finish", **base,
                  "game": {"id": game_id, "status": "win" if won else "lose", "payout": float(payout),
                           "profit": float(payout - bet), "bet": float(bet), "round": rnd},
                  "data": {"balanceUpdateDelay": GAMES[game]}}
        return start, finish

    # -- sending ---------------------------------------------------------------------------------------

    def run(self, count: int, rate: float, concurrency: int = 4) -> None:
        """count rounds at about `rate` callbacks per second in total, over `concurrency` connections."""
        interval = 1.0 / rate if rate > 0 else 0.0
        plan = {"next": time.monotonic(), "left": count}
        lock = threading.Lock()

        workers = max(1, min(concurrency, len(self.players)))

        def worker(me: int):
            conn = None
            while True:
                with lock:
                    if plan["left"] <= 0:
                        break
                    plan["left"] -= 1
                    at = plan["next"]
                    plan["next"] = max(at, time.monotonic()) + 2 * interval  # a round is two callbacks
                delay = at - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                conn = self._one_round(conn, me, workers)
            if conn is not None:
                conn.close()

        threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(workers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.link.flush()

    def _one_round(self, conn, worker: int, workers: int):
        start, finish = self.next_round(worker, workers)
        conn, answer = self._send(conn, start, "start")
        if answer is not None and answer.get("result") is True:
            conn, _ = self._send(conn, finish, "finish")
        elif answer is not None and answer.get("result") is False:
            self.answers.refused += 1
        return conn

    def _send(self, conn, body: dict, kind: str):
        body = {**body, "time": int(time.time() * 1000)}
        sent_at = datetime.fromtimestamp(body["time"] / 1000, timezone.utc)
        raw = json.dumps(body).encode()
        problems, answer, status = [], None, None
        for attempt in (1, 2):  # a kept-alive connection the server closed: once more on a new one
            try:
                if conn is None:
                    conn = _connect(self.url, self.timeout)
                conn.request("POST", self.url.path or "/", raw, {"Content-Type": "application/json"})
                resp = conn.getresponse()
                status, data = resp.status, resp.read()
                break
            except TimeoutError:
                problems.append(("upstream.timeout", f"{kind} {body['game']['id']}: no answer within "
                                                     f"{self.timeout:g} s"))
                conn.close()
                conn = None
                break
            except (OSError, http.client.HTTPException) as exc:
                if conn is not None:
                    conn.close()
                conn = None
                if attempt == 2:
                    problems.append(("upstream.http", f"{kind} {body['game']['id']}: {type(exc).__name__}: {exc}"))
        with self._lock:
            self.answers.sent += 1
        if status is not None:
            answer, problem = judge_answer(kind, status, data)
            if problem:
                problems.append(problem)
        for rule, text in problems:
            self.answers.add(rule, text)
        self.link.add({"id": f"{kind}:{body['game']['id']}", "source": "phoenix", "kind": kind,
                       "sent_at": iso(sent_at), "body": body, "answer": answer,
                       "violations": [{"rule": r, "path": "", "message": t} for r, t in problems]})
        return conn, answer


def judge_answer(kind: str, status: int, data: bytes) -> tuple[dict | None, tuple[str, str] | None]:
    """The answer as JSON (None when it is not an object) and what it breaks: start answers
    {"result": true|false}, finish answers {}."""
    if status != 200:
        return None, ("upstream.http", f"{kind}: expected 200, got {status} {data[:200]!r}")
    try:
        answer = json.loads(data)
    except ValueError:
        return None, ("upstream.answer", f"{kind}: expected a JSON object, got {data[:200]!r}")
    if not isinstance(answer, dict):
        return None, ("upstream.answer", f"{kind}: expected a JSON object, got {data[:200]!r}")
    if kind == "start" and (set(answer) != {"result"} or not isinstance(answer["result"], bool)):
        return answer, ("upstream.answer", f"start: expected {{\"result\": true}} or {{\"result\": false}}, "
                                           f"got {data[:200].decode(errors='replace')}")
    if kind == "finish" and answer:
        return answer, ("upstream.answer", f"finish: expected {{}}, got {data[:200].decode(errors='replace')}")
    return answer, None


def _connect(url, timeout: float):
    cls = http.client.HTTPSConnection if url.scheme == "https" else http.client.HTTPConnection
    return cls(url.hostname, url.port or (443 if url.scheme == "https" else 80), timeout=timeout)


def _round_data(rng: random.Random, bet: Decimal) -> dict:
    """Roulette's bets on more than one outcome, summing to the bet."""
    n = rng.randint(2, 4)
    cents = int(bet * 100)
    cuts = sorted(rng.sample(range(1, cents), n - 1)) if cents > n else []
    parts = [b - a for a, b in zip([0, *cuts], [*cuts, cents])] if cuts else [cents]
    kinds = ("straight", "red", "black", "odd", "even", "dozen")
    return {"bets": [{"type": rng.choice(kinds), "value": rng.randint(0, 36), "amount": p / 100} for p in parts]}
