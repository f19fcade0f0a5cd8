"""A lean HTTP load generator for the benchmark: keep-alive sockets, one thread each, bodies made ahead.

http.client costs about 60 µs of Python per request, which on two shared cores would cap the benchmark
below the server it measures; here a request is one sendall and a small parse of the answer. Bodies come
from a scenario, rendered ahead of time with a placeholder where the timestamp goes, and stamped with
the clock when each request leaves (ftsim's latency is measured from it). A player's messages go down
one connection in order, as the sender does, so no win overtakes its bet.
"""
from __future__ import annotations

import socket
import threading
import time
from datetime import datetime, timezone
from itertools import islice

from simulator.clients.scenario import load_scenario, plan
from simulator.clients.scenario.render import dumps
from simulator.clients.sender.base import route_of

PLACEHOLDER = "@@timestamp@@"


def templates(scenario_name: str, count: int, namespace: str) -> list[tuple[str, bytes, bytes, tuple[str, str]]]:
    """(user_id, body before the timestamp, body after it, (method, path)) for `count` messages of the
    scenario. A type without a timestamp field gets none (adding one would make it an unknown field), and
    each message goes to its own type's route, as the sender sends it; the brokers-only types (no REST
    path) are left out of the journeys, as `ftsim send --via rest` leaves them out (posted to casino's
    route they were 7% of full-journey's REST messages, each a 400). The route is the payload's own: two
    shapes share LOTTERY_V2, each at its own path."""
    out = []
    for p in islice(plan(load_scenario(scenario_name), namespace, "rest"), count):
        route = route_of(p.marker, p.payload)
        if "timestamp" in p.payload:
            head, _, tail = dumps({**p.payload, "timestamp": PLACEHOLDER}).partition(PLACEHOLDER.encode())
        else:
            head, tail = dumps(p.payload), None
        out.append((p.user_id, head, tail, route))
    return out


def stamp() -> bytes:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ").encode()


class Result:
    def __init__(self):
        self.ok = self.errors = 0
        self.latencies_ms: list[float] = []
        self.statuses: dict[int, int] = {}
        self.lock = threading.Lock()


def _read_response(sock: socket.socket, buf: bytearray) -> tuple[int, bool]:
    """Read one HTTP response off the socket; (status, server will close)."""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed by server")
        buf += chunk
    end = buf.index(b"\r\n\r\n") + 4
    head = bytes(buf[:end]).decode("latin-1").lower()
    status = int(head[9:12])
    del buf[:end]
    closing = "connection: close" in head
    if "transfer-encoding: chunked" in head:
        while True:
            while b"\r\n" not in buf:
                buf += sock.recv(65536)
            line_end = buf.index(b"\r\n")
            size = int(bytes(buf[:line_end]).split(b";")[0], 16)
            while len(buf) < line_end + 2 + size + 2:
                buf += sock.recv(65536)
            del buf[:line_end + 2 + size + 2]
            if size == 0:
                return status, closing
    length = 0
    for line in head.split("\r\n"):
        if line.startswith("content-length:"):
            length = int(line.split(":", 1)[1])
    while len(buf) < length:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed mid-body")
        buf += chunk
    del buf[:length]
    return status, closing


def _worker(host, port, path, items, deadline, result: Result, rate_per_conn: float | None):
    prefixes: dict = {}
    sock = None
    buf = bytearray()
    lat, ok, errors, statuses = [], 0, 0, {}
    started = time.monotonic()
    for n, (_, head, tail, route) in enumerate(items):
        if rate_per_conn:
            delay = started + n / rate_per_conn - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        if time.monotonic() >= deadline:
            break
        body = head if tail is None else head + stamp() + tail
        method, to = ("POST", path) if path else route
        prefix = prefixes.get((method, to)) or prefixes.setdefault((method, to), (
            f"{method} {to} HTTP/1.1\r\nHost: {host}:{port}\r\n"
            f"Content-Type: application/json\r\nContent-Length: ").encode())
        request = prefix + str(len(body)).encode() + b"\r\n\r\n" + body
        t0 = time.perf_counter()
        try:
            if sock is None:
                sock = socket.create_connection((host, port))
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                buf.clear()
            sock.sendall(request)
            status, closing = _read_response(sock, buf)
        except OSError:
            errors += 1
            if sock is not None:
                sock.close()
            sock = None
            continue
        lat.append((time.perf_counter() - t0) * 1000)
        statuses[status] = statuses.get(status, 0) + 1
        ok += 200 <= status < 300
        errors += not 200 <= status < 300
        if closing:
            sock.close()
            sock = None
    if sock is not None:
        sock.close()
    with result.lock:
        result.ok += ok
        result.errors += errors
        result.latencies_ms += lat
        for k, v in statuses.items():
            result.statuses[k] = result.statuses.get(k, 0) + v


def blast(url_host: str, port: int, items, *, connections: int = 16, seconds: float = 8.0,
          rate: float | None = None, path: str | None = None) -> tuple[Result, float]:
    """Send the items over `connections` keep-alive sockets until done or `seconds` pass; (result, elapsed).
    Each goes to its own route, or all are POSTed to `path` when one is given (the raw ceiling has one)."""
    shards: list[list] = [[] for _ in range(connections)]
    for item in items:
        shards[hash(item[0]) % connections].append(item)
    result = Result()
    start = time.monotonic()
    deadline = start + seconds
    per_conn = rate / connections if rate else None
    threads = [threading.Thread(target=_worker, args=(url_host, port, path, shard, deadline, result, per_conn),
                                daemon=True) for shard in shards]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return result, time.monotonic() - start
