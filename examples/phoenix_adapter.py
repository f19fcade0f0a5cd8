"""An example operator platform: takes Phoenix Gambling callbacks and sends Fast Track CASINO events over REST.

    python examples/phoenix_adapter.py --ftsim http://127.0.0.1:8080 [--port 8090] [--balance 500]
                                       [--bug cents|drop-win|late|round-id ...]

It keeps a wallet per player (starting at --balance, in major units): a `start` whose bet the wallet
holds is answered {"result": true} and becomes a CASINO Bet, one it does not hold {"result": false}
and nothing; a `finish` is answered {} and becomes the round's CASINO Win (the payout, 0 on lose,
is_round_end true). FT events leave from one sender thread, in order, after the answer.

The bug switches are the classic go-live bugs, for ftsim's pipeline check to catch:
  cents     amounts sent in cents where FT expects units (a payout of 12.34 as 1234)
  drop-win  the Win of a won round is never sent
  late      every FT event leaves 1.5 s after its callback
  round-id  round_id is the session id and round number, not the game's id
"""
from __future__ import annotations

import argparse
import heapq
import http.client
import json
import sys
import threading
import time
import urllib.parse
from datetime import datetime, timezone
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

BUGS = ("cents", "drop-win", "late", "round-id")
LATE_SECONDS = 1.5


class Sender(threading.Thread):
    """Posts FT events to ftsim in the order they were made, each not before its due time."""

    def __init__(self, base: str, api_key: str | None):
        super().__init__(daemon=True)
        self.url = urllib.parse.urlsplit(base)
        self.headers = {"Content-Type": "application/json", **({"X-Api-Key": api_key} if api_key else {})}
        self.queue: list = []
        self.cond = threading.Condition()
        self.n = 0
        self.sent = 0

    def put(self, event: dict, due: float) -> None:
        with self.cond:
            self.n += 1
            heapq.heappush(self.queue, (due, self.n, event))
            self.cond.notify()

    def run(self) -> None:
        conn = None
        while True:
            with self.cond:
                while not self.queue or self.queue[0][0] > time.monotonic():
                    self.cond.wait(None if not self.queue else max(0.0, self.queue[0][0] - time.monotonic()))
                _, _, event = heapq.heappop(self.queue)
            for _ in range(5):
                try:
                    if conn is None:
                        conn = http.client.HTTPConnection(self.url.hostname, self.url.port, timeout=10)
                    conn.request("POST", "/v1/integration/casino", json.dumps(event), self.headers)
                    conn.getresponse().read()
                    self.sent += 1
                    break
                except (OSError, http.client.HTTPException):
                    conn = None
                    time.sleep(0.2)


class Platform:
    def __init__(self, sender: Sender, balance: Decimal, bugs: set[str]):
        self.sender, self.balance, self.bugs = sender, balance, bugs
        self.wallets: dict[str, Decimal] = {}
        self.lock = threading.Lock()

    def callback(self, body: dict) -> dict:
        kind, session, game = body.get("type"), body.get("session") or {}, body.get("game") or {}
        player = str(session.get("playerId"))
        if kind == "start":
            bet = Decimal(str((body.get("data") or {}).get("bet", game.get("bet", 0))))
            with self.lock:
                wallet = self.wallets.setdefault(player, self.balance)
                if bet > wallet:
                    return {"result": False}
                self.wallets[player] = wallet - bet
            self._emit(body, "Bet", bet, False)
            return {"result": True}
        if kind == "finish":
            payout = Decimal(str(game.get("payout", 0))) if game.get("status") == "win" else Decimal(0)
            with self.lock:
                self.wallets[player] = self.wallets.get(player, self.balance) + payout
            if not ("drop-win" in self.bugs and payout > 0):
                self._emit(body, "Win", payout, True)
            return {}
        raise ValueError(f"unknown callback type {kind!r}")

    def _emit(self, body: dict, kind: str, amount: Decimal, end: bool) -> None:
        session, game = body["session"], body["game"]
        round_id = f"{session['id']}:{game.get('round')}" if "round-id" in self.bugs else str(game["id"])
        if "cents" in self.bugs:
            amount = amount * 100
        event = {"activity_id": f"{kind.lower()}-{game['id']}", "amount": float(amount),
                 "currency": session["currency"], "exchange_rate": 1, "game_id": str(session.get("gameId")),
                 "game_name": str(session.get("gameId")), "is_round_end": end, "origin": "phoenix.example.com",
                 "round_id": round_id, "status": "Approved",
                 "timestamp": datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                 "type": kind, "user_id": str(session["playerId"]), "vendor_id": "phoenix",
                 "vendor_name": "Phoenix Gambling"}
        self.sender.put(event, time.monotonic() + (LATE_SECONDS if "late" in self.bugs else 0))


def handler_for(platform: Platform):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            try:
                answer, status = platform.callback(json.loads(self.rfile.read(length))), 200
            except (ValueError, KeyError, TypeError) as exc:
                answer, status = {"error": str(exc)}, 400
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    return Handler


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--ftsim", required=True, help="where FT events go (ftsim's REST base URL)")
    p.add_argument("--port", type=int, default=8090)
    p.add_argument("--api-key")
    p.add_argument("--balance", default="1000", help="each player's starting wallet, in units (1000)")
    p.add_argument("--bug", action="append", choices=BUGS, default=[])
    args = p.parse_args(argv)
    sender = Sender(args.ftsim, args.api_key)
    sender.start()
    server = ThreadingHTTPServer(("127.0.0.1", args.port), handler_for(Platform(sender, Decimal(args.balance),
                                                                                 set(args.bug))))
    server.daemon_threads = True
    print(f"phoenix adapter listening on http://127.0.0.1:{server.server_port}/callback "
          f"(bugs: {', '.join(args.bug) or 'none'})", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
