"""The REST front under attack: how many normal POSTs are answered while idle or slowloris clients flood it.

Starts `ftsim serve`'s own Server in this process (a temporary SQLite file), then keeps `--idle`
connections open that never send a byte, `--slow` ones that send one header byte every `--drip`
seconds, and `--stall` ones that send whole headers (Content-Length 500) and then a body byte every
`--drip` seconds (each reconnects when the server closes it, as the real attacks do), and meanwhile sends
normal POSTs one after another on new connections, each given `--timeout` seconds. Prints one line:
answered/sent and the normal requests' latencies.

    python bench/attack.py --idle 2000 --seconds 60
    python bench/attack.py --slow 500 --drip 4 --seconds 60
    python bench/attack.py --idle 2000 --stack werkzeug
    python bench/attack.py --stall 100 --seconds 30
    python bench/attack.py --stall 1000 --workers 2   # `ftsim serve --workers 2` in a process group of its own
    python bench/attack.py --large 400 --size 1000000 --workers 2 --seconds 15

With --workers the server runs as `ftsim serve` in processes of its own (bench/run.py's Ftsim), and the line
adds their threads and memory (RSS) at the flood's end, since a stalled body holds a Python thread until its
sender goes; with --large, the sum of their peaks (VmHWM) and their RSS 3 s after the flood too, and how the
large bodies were answered (`--large` senders POST bodies of `--size` bytes one after another, each on a new
connection).
"""
from __future__ import annotations

import argparse
import contextlib
import errno
import json
import selectors
import socket
import statistics
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

from simulator.transports.rest import server as httpserver
from simulator import serve
from simulator.settings import load_settings

from run import Ftsim, peak_rss_mb  # bench/run.py: `ftsim serve` in a process of its own, its peak memory

EVENT = {"activity_id": "a", "amount": 20.0, "wager_amount": 20.0, "bonus_wager_amount": 0, "locked_wager_amount": 0,
         "balance_before": 194.03, "balance_after": 174.03, "currency": "EUR", "exchange_rate": 1,
         "game_id": "10911", "game_name": "Dead or Alive", "game_type": "Slots", "is_round_end": False,
         "origin": "sub.example.com", "round_id": "r", "status": "Approved", "timestamp": "", "type": "Bet",
         "user_id": "52530", "vendor_id": "1", "vendor_name": "Netent"}


class Flood:
    """All attackers on one thread: non-blocking sockets, reconnected as the server closes them."""

    def __init__(self, port: int, idle: int, slow: int, drip: float, stall: int = 0):
        self.port, self.drip = port, drip
        self.sel = selectors.DefaultSelector()
        self.slow: set[socket.socket] = set()
        self.reconnects = 0
        self.stop = threading.Event()
        for _ in range(idle):
            self._open("idle")
        for _ in range(slow):
            self.slow.add(self._open("slow"))
        for _ in range(stall):
            self.slow.add(self._open("stall"))

    def _open(self, kind: str) -> socket.socket:
        sock = socket.socket()
        sock.setblocking(False)
        err = sock.connect_ex(("127.0.0.1", self.port))
        if err not in (0, errno.EINPROGRESS):
            raise OSError(err, "connect")
        self.sel.register(sock, selectors.EVENT_READ, kind)
        self._pending = getattr(self, "_pending", {})
        if kind == "slow":
            self._pending[sock] = b"POST /v1/integration/casino HTTP/1.1\r\nHost: x\r\n"
        elif kind == "stall":
            self._pending[sock] = (b"POST /v1/integration/casino HTTP/1.1\r\nHost: x\r\n"
                                   b"Content-Type: application/json\r\nContent-Length: 500\r\n\r\n{")
        return sock

    def _reopen(self, sock: socket.socket, kind: str) -> None:
        self.sel.unregister(sock)
        self.slow.discard(sock)
        self._pending.pop(sock, None)
        sock.close()
        self.reconnects += 1
        new = self._open(kind)
        if kind != "idle":
            self.slow.add(new)

    def run(self) -> None:
        next_drip = time.monotonic()
        while not self.stop.is_set():
            for key, _ in self.sel.select(timeout=0.2):
                try:
                    data = key.fileobj.recv(4096)
                except BlockingIOError:
                    continue
                except OSError:
                    data = b""
                if not data:
                    self._reopen(key.fileobj, key.data)
            if time.monotonic() >= next_drip:
                next_drip += self.drip
                for sock in list(self.slow):
                    pending = self._pending.get(sock)
                    try:
                        if pending:  # the request line once connected, then a byte per drip
                            sent = sock.send(pending)
                            self._pending[sock] = pending[sent:]
                        else:
                            sock.send(b"X")
                    except (BlockingIOError, InterruptedError):
                        pass
                    except OSError as exc:
                        if exc.errno != errno.ENOTCONN:
                            self._reopen(sock, self.sel.get_key(sock).data)
        for key in list(self.sel.get_map().values()):
            key.fileobj.close()


def normal_posts(url: str, seconds: float, timeout: float) -> tuple[int, int, list[float]]:
    sent = answered = 0
    latencies = []
    until = time.monotonic() + seconds
    while time.monotonic() < until:
        sent += 1
        event = dict(EVENT, activity_id=f"a{sent}", round_id=f"r{sent}",
                     timestamp=time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()))
        req = urllib.request.Request(url + "/v1/integration/casino", data=json.dumps(event).encode(),
                                     method="POST", headers={"Content-Type": "application/json"})
        started = time.monotonic()
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                resp.read()
            answered += 1
            latencies.append(time.monotonic() - started)
        except OSError:
            pass
        time.sleep(max(0.0, 1.0 - (time.monotonic() - started)))  # about one request a second
    return sent, answered, latencies


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--idle", type=int, default=0)
    p.add_argument("--slow", type=int, default=0)
    p.add_argument("--stall", type=int, default=0)
    p.add_argument("--drip", type=float, default=4.0, help="seconds between a slow client's bytes")
    p.add_argument("--seconds", type=float, default=60.0)
    p.add_argument("--timeout", type=float, default=10.0, help="seconds a normal POST may take")
    p.add_argument("--stack", default="auto", choices=["auto", "granian", "werkzeug"])
    p.add_argument("--large", type=int, default=0, help="senders of large bodies, one after another each")
    p.add_argument("--size", type=int, default=1_000_000, help="bytes of a --large sender's body")
    p.add_argument("--workers", type=int, default=0,
                   help="run `ftsim serve --workers N` in processes of its own (0: the one-process server, here)")
    args = p.parse_args()
    if args.stack != "auto":
        serve.make_http_server = lambda app, settings, **kw: httpserver.make_http_server(app, settings,
                                                                                         kind=args.stack, **kw)
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as running:
        if args.workers:  # bench/run.py's `ftsim serve` in a process of its own
            server = running.enter_context(Ftsim(Path(tmp), "attack", "--workers", str(args.workers)).running())
        else:
            settings = load_settings(None, env={}, port=0, db=str(Path(tmp) / "ftsim.db"))
            server = serve.Server(settings).start()
            running.callback(server.stop)
        flood = Flood(server.port, args.idle, args.slow, args.drip, args.stall)
        attacker = threading.Thread(target=flood.run, daemon=True)
        attacker.start()
        large = Large(server.port, args.large, args.size)
        time.sleep(1.0)  # let the flood land first
        sent, answered, lat = normal_posts(server.url, args.seconds, args.timeout)
        held = _held(server.proc.pid) if args.workers else ""
        flood.stop.set()
        attacker.join(timeout=10)
        large.stop()
        if args.workers and args.large:
            time.sleep(3.0)
            held += (f"; their peaks (VmHWM) {peak_rss_mb(server.proc.pid):,.0f} MiB, "
                     f"{_usage(server.proc.pid)[1]:,.0f} MiB RSS 3 s after the flood")
    stack = f"--workers {args.workers}" if args.workers else server.http.name
    figures = (f"p50 {statistics.median(lat) * 1000:.0f} ms, max {max(lat) * 1000:.0f} ms" if lat
               else "no answers")
    print(f"{stack}: idle {args.idle}, slow {args.slow}, stalled bodies {args.stall} (a byte per {args.drip:g} s), "
          f"{args.seconds:g} s: "
          f"{answered}/{sent} normal POSTs answered within {args.timeout:g} s ({figures}); "
          f"attacker reconnects {flood.reconnects}{large.said()}{held}")


class Large:
    """`n` senders, each POSTing a casino event padded to `size` bytes, one after another, on new connections."""

    def __init__(self, port: int, n: int, size: int):
        self.port, self.n = port, n
        event = dict(EVENT, timestamp=time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()))
        event["game_name"] = "x" * max(0, size - len(json.dumps(event)))
        self.body = json.dumps(event).encode()
        self.head = (b"POST /v1/integration/casino HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Content-Length: %d\r\n\r\n" % len(self.body))
        self.answers: dict[str, int] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._send, daemon=True) for _ in range(n)]
        for t in self._threads:
            t.start()

    def _send(self) -> None:
        while not self._stop.is_set():
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=30) as sock:
                    sock.sendall(self.head + self.body)
                    data = sock.recv(64)
                answer = data.split(b" ", 2)[1].decode() if data else "closed"
            except OSError as exc:
                answer = type(exc).__name__
            with self._lock:
                self.answers[answer] = self.answers.get(answer, 0) + 1

    def stop(self) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(timeout=35)

    def said(self) -> str:
        if not self.n:
            return ""
        answers = ", ".join(f"{k}: {v:,}" for k, v in sorted(self.answers.items()))
        return f"; {self.n} senders of {len(self.body):,}-byte bodies, answered {answers}"


def _usage(pid: int) -> tuple[int, float]:
    """(threads, RSS in MiB) of ftsim's processes now: the supervisor and its workers."""
    import psutil

    threads = rss = 0
    try:
        procs = [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0, 0.0
    for proc in procs:
        try:
            threads += proc.num_threads()
            rss += proc.memory_info().rss
        except psutil.NoSuchProcess:
            pass
    return threads, rss / 2 ** 20


def _held(pid: int) -> str:
    threads, rss = _usage(pid)
    return f"; the server's processes: {threads:,} threads, {rss:,.0f} MiB RSS"


if __name__ == "__main__":
    main()
