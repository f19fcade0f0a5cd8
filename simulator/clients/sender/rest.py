"""REST: POST each message, retried with backoff until a 2xx, as the integration guide asks.

Worker threads each hold one keep-alive connection. Messages with the same key (the user id) always go
to the same worker, one after the other, so a player's bet is answered before their win is sent, at
any number of workers. A refusal the same bytes would get again (400, 401, 403, 404, 405, 413, 415, 422) is
counted as rejected and not retried unless `retry_4xx`; connection errors, timeouts, 408, 429 and 5xx
are retried, honouring Retry-After, up to `max_attempts`.
"""
from __future__ import annotations

import base64
import http.client
import queue
import random
import threading
import time
from urllib.parse import urlsplit

from simulator.clients.sender.base import DEFAULT_ROUTE, Channel, Observer, Outgoing, Stats, route_of

DEFAULT_PATH = DEFAULT_ROUTE[1]
PERMANENT = frozenset({400, 401, 403, 404, 405, 413, 415, 422})
# Messages a worker holds before it sends them. A message is stamped (its timestamp, from a scenario or
# --restamp) when it is queued, so the queue is time the target's latency figure is charged for: with 64, a
# fast send of 4,000 steady messages to ftsim measured p99 320-413 ms, with 8 52-58 ms at the same msg/s.
QUEUED = 8
STOP = object()


def endpoint(url: str) -> tuple[str, str, int, str]:
    """(scheme, host, port, path) for a target; path None for a bare host:port or base URL: each message
    then goes to the method and path of its own type."""
    if "://" not in url:
        url = "http://" + url
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"target: expected http(s)://host:port[/path], got {url!r}")
    path = parts.path if parts.path not in ("", "/") else None
    if parts.query and path is not None:
        path += "?" + parts.query
    return parts.scheme, parts.hostname, parts.port or (443 if parts.scheme == "https" else 80), path


def auth_headers(api_key: str | None = None, basic_auth: str | None = None) -> dict:
    if api_key:
        return {"X-Api-Key": api_key}
    if basic_auth:
        return {"Authorization": "Basic " + base64.b64encode(basic_auth.encode()).decode()}
    return {}


class Backoff:
    """Exponential with full jitter: attempt n waits up to base * 2**n, never more than cap."""

    def __init__(self, base: float = 0.05, cap: float = 5.0, seed: int | None = None):
        self.base, self.cap = base, cap
        self._rng = random.Random(seed)

    def delay(self, attempt: int, retry_after: str | None = None) -> float:
        if retry_after:
            try:
                return min(self.cap * 4, max(0.0, float(retry_after)))
            except ValueError:
                pass
        return self._rng.uniform(0, min(self.cap, self.base * 2 ** attempt))


class RestChannel(Channel):
    name = "rest"
    OPTIONS = ("api_key", "basic_auth", "workers", "timeout", "max_attempts", "retry_4xx", "backoff", "observe")

    def __init__(self, target: str, *, stats: Stats | None = None, api_key: str | None = None,
                 basic_auth: str | None = None, workers: int = 4, timeout: float = 10.0, max_attempts: int = 10,
                 retry_4xx: bool = False, backoff: Backoff | None = None, observe: Observer = None):
        if max_attempts < 1:
            raise ValueError("max_attempts: expected at least 1")
        self.scheme, self.host, self.port, self.path = endpoint(target)
        self.stats = stats or Stats()
        self.timeout = timeout
        self.max_attempts = max_attempts
        self.retry_4xx = retry_4xx
        self.backoff = backoff or Backoff()
        self.observe = observe
        self.headers = {"Content-Type": "application/json", **auth_headers(api_key, basic_auth)}
        self._routes: dict = {}
        self._queues = [queue.Queue(maxsize=QUEUED) for _ in range(max(1, workers))]
        self._next = 0
        self._threads = [threading.Thread(target=self._work, args=(q,), name=f"ftsim-send-{i}", daemon=True)
                         for i, q in enumerate(self._queues)]
        for t in self._threads:
            t.start()

    def submit(self, item: Outgoing) -> None:
        if item.key is not None:
            q = self._queues[hash(item.key) % len(self._queues)]
        else:
            q = self._queues[self._next % len(self._queues)]
            self._next += 1
        q.put(item)

    def close(self) -> None:
        for q in self._queues:
            q.put(STOP)
        for t in self._threads:
            t.join()

    def _connect(self) -> http.client.HTTPConnection:
        cls = http.client.HTTPSConnection if self.scheme == "https" else http.client.HTTPConnection
        return cls(self.host, self.port, timeout=self.timeout)

    def _work(self, q: queue.Queue) -> None:
        conn = self._connect()
        try:
            while (item := q.get()) is not STOP:
                conn = self._post(conn, item)
        finally:
            conn.close()

    def _route(self, item: Outgoing) -> tuple[str, str]:
        """The item's own route, else its marker's (cached), with the target's path when it names one."""
        method, path = item.route or self._routes.get(item.marker) or self._routes.setdefault(
            item.marker, route_of(item.marker))
        return method, self.path or path

    def _post(self, conn, item: Outgoing):
        error: BaseException | None = None
        started = time.perf_counter()
        method, path = self._route(item)
        for attempt, started in self._attempts():
            retry_after = None
            try:
                conn.request(method, path, body=item.body, headers=self.headers)
                response = conn.getresponse()
                response.read()
                status = response.status
                retry_after = response.getheader("Retry-After")
                if response.will_close:
                    conn.close()
            except (OSError, http.client.HTTPException) as exc:
                conn.close()  # reconnects on the next request
                status, error = None, exc
            if status is not None and 200 <= status < 300:
                self._done(item, "delivered", started, None, status=status)
                return conn
            if status in PERMANENT and not self.retry_4xx:
                self._done(item, "rejected", started, RuntimeError(f"HTTP {status}"), status=status)
                return conn
            if attempt + 1 < self.max_attempts:
                time.sleep(self.backoff.delay(attempt, retry_after))
        why = RuntimeError(f"HTTP {status}") if status is not None else error
        self._done(item, "failed", started, why, status=status)
        return conn

