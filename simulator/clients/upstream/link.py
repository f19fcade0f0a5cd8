"""The driver's line to ftsim: inputs registered in batches, and the pipeline's verdict once it settled."""
from __future__ import annotations

import base64
import json
import threading
import time
import urllib.error
import urllib.request


class FtsimLink:
    """Registers inputs with the ftsim at `url` (None: no ftsim, the driver judges answers only).

    Batches are posted from the caller's thread when full and by `flush()`; a driver registers an input
    before publishing it where it can (the bus) and just after its answer where it cannot (callbacks)."""

    def __init__(self, url: str | None, *, api_key: str | None = None, basic_auth: str | None = None,
                 batch: int = 200):
        self.url = url.rstrip("/") if url else None
        self.headers = {"Content-Type": "application/json"}
        if api_key:
            self.headers["X-Api-Key"] = api_key
        if basic_auth:
            self.headers["Authorization"] = "Basic " + base64.b64encode(basic_auth.encode()).decode()
        self.batch = batch
        self._items: list[dict] = []
        self._lock = threading.Lock()
        self._post = threading.Lock()  # one POST at a time, so batches arrive in the order they were made
        self.registered = 0
        if self.url is not None:
            self._request("POST", "/api/pipeline/inputs", {"inputs": []})  # announces the run
            threading.Thread(target=self._every, args=(0.1,), daemon=True).start()

    def _every(self, seconds: float) -> None:
        """Callbacks are registered after their answer: a batch must not wait for its 200th item."""
        while True:
            time.sleep(seconds)
            try:
                self.flush()
            except RuntimeError:
                pass  # the next flush, or the final one, says what is wrong

    def add(self, item: dict) -> None:
        if self.url is None:
            return
        with self._lock:
            self._items.append(item)
            full = len(self._items) >= self.batch
        if full:
            self.flush()

    def flush(self) -> None:
        if self.url is None:
            return
        with self._post:
            with self._lock:
                items, self._items = self._items, []
            if items:
                self._request("POST", "/api/pipeline/inputs", {"inputs": items})
                self.registered += len(items)

    def pipeline(self, **query) -> dict:
        args = "&".join(f"{k}={v}" for k, v in query.items() if v is not None)
        return self._request("GET", "/api/pipeline" + (f"?{args}" if args else ""))

    def settled(self, timeout: float) -> dict:
        """The pipeline once nothing waits (every input judged, every FT event claimed or called extra)."""
        self.flush()
        deadline = time.monotonic() + timeout
        while True:
            found = self.pipeline(limit=1)
            s = found["summary"]
            if (s["pending"] == 0 and s["unclaimed"] == 0) or time.monotonic() > deadline:
                return found
            time.sleep(0.2)

    def _request(self, method: str, path: str, body=None) -> dict:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url + path, data=data, method=method, headers=self.headers)
        for attempt in range(5):
            try:
                with urllib.request.urlopen(req, timeout=30) as resp:
                    return json.loads(resp.read())
            except urllib.error.HTTPError as exc:
                if exc.code < 500 or attempt == 4:
                    raise RuntimeError(f"ftsim {method} {path}: {exc.code} {exc.read()[:500]!r}") from None
            except (urllib.error.URLError, OSError) as exc:
                if attempt == 4:
                    raise RuntimeError(f"ftsim {method} {path}: {exc}") from None
            time.sleep(0.2 * 2 ** attempt)
        raise AssertionError("unreachable")


def report_lines(found: dict, answers: dict) -> list[str]:
    """What a driver prints at the end: the pipeline's figures and each problem, one line each."""
    s = found["summary"]
    lat = s["latency_ms"]
    lines = [f"pipeline: {s['inputs']} inputs, {s['expected']} FT events expected, {s['paired']} paired, "
             f"{s['missing']} missing, {s['extra']} extra, {s['late']} late, {s['not_sent']} correctly not sent; "
             f"latency p50 {lat['p50']} ms, p99 {lat['p99']} ms (budget {lat['budget']:g} ms)"]
    for rule, counts in s["by_rule"].items():
        lines.append(f"  {rule}: " + ", ".join(f"{n} {sev}" for sev, n in sorted(counts.items())))
    for rule, n in sorted(answers.items()):
        lines.append(f"  answers {rule}: {n}")
    return lines


def failed(found: dict | None, answers_errors: int) -> bool:
    """A CI verdict: an error-severity violation anywhere in the pipeline, or an answer that broke one."""
    if answers_errors:
        return True
    if found is None:
        return False
    return any(c.get("error") for c in found["summary"]["by_rule"].values())
