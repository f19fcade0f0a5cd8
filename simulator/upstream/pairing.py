"""The pairing: each upstream input with the Fast Track events it must cause, judged as they meet.

Both sides wait for the other: an input's expected events wait (until its grace period ends:
pipeline.missing) and so do FT events no input asked for yet (the driver registers a callback only once
the platform answered it, and the platform may send its FT event before answering). Pending state is
bounded (`max_pending`), expired by deadline, and forgotten once judged; what stays is counters, a
latency histogram and the newest judged inputs (`keep`), so memory is flat however long a run lasts.
"""
from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections import OrderedDict, deque
from decimal import Decimal

import orjson

from simulator.core.money import as_sent, to_money
from simulator.core.timefmt import iso, parse_rfc3339
from simulator.core.violations import Severities, Violation, pointer
from simulator.upstream.latency import Histogram
from simulator.upstream.mapping import MISSING, Expect, Mapping, dig

IDS_KEPT = 20_000  # input ids remembered: a driver retries a POST within seconds, not hours


class Input:
    __slots__ = ("id", "source", "kind", "sent_at", "user_id", "violations", "events", "open", "seq")

    def __init__(self, id, source, kind, sent_at, seq):
        self.id, self.source, self.kind, self.sent_at, self.seq = id, source, kind, sent_at, seq
        self.user_id = None
        self.violations: list[Violation] = []  # of the input itself (the platform's answer)
        self.events: list[dict] = []
        self.open = 0

    def as_dict(self) -> dict:
        found = self.violations + [v for e in self.events for v in e["violations"]]
        verdict = "pending" if self.open else ("problem" if any(v.severity in ("error", "warning") for v in found)
                                               else "clean")
        return {"input": self.id, "source": self.source, "kind": self.kind, "sent_at": iso(self.sent_at),
                "user_id": self.user_id, "verdict": verdict, "violations": [v.as_dict() for v in self.violations],
                "events": [{**e, "violations": [v.as_dict() for v in e["violations"]]} for e in self.events]}


class Pending:
    """One FT event an input expects (or, forbid, must not cause)."""
    __slots__ = ("input", "expect", "wants", "keys", "deadline", "done", "seq")

    def __init__(self, input, expect, wants, keys, deadline, seq):
        self.input, self.expect, self.wants, self.keys, self.deadline, self.seq = (
            input, expect, wants, keys, deadline, seq)
        self.done = False


class Orphan:
    """An FT event of a mapped kind that no input has claimed yet."""
    __slots__ = ("marker", "payload", "message_id", "received_at", "keys", "deadline", "done", "label")

    def __init__(self, marker, payload, message_id, received_at, keys, deadline, label):
        self.marker, self.payload, self.message_id, self.received_at = marker, payload, message_id, received_at
        self.keys, self.deadline, self.label = keys, deadline, label
        self.done = False


def _shape(e: Expect) -> tuple:
    return (e.marker, tuple(sorted(e.kind.items())), e.key)


class Pairing:
    def __init__(self, mappings: list[Mapping], severities: Severities, *, grace: float | None = None,
                 latency_budget: float | None = None, max_pending: int = 100_000, keep: int = 10_000,
                 clock=time.monotonic):
        self.mappings = {m.source: m for m in mappings}
        self.severities = severities
        self.grace = grace  # overrides each mapping's own when given
        self.budget = latency_budget
        self.max_pending = max_pending
        self.clock = clock
        self._lock = threading.Lock()
        self._seq = itertools.count()
        self._shapes: dict[str, list[Expect]] = {}  # marker -> one Expect per shape
        for m in mappings:
            for e in m.expects:
                seen = self._shapes.setdefault(e.marker, [])
                if all(_shape(s) != _shape(e) for s in seen):
                    seen.append(e)
        self._waiting: dict[tuple, deque] = {}  # index key -> pending expectations, oldest first
        self._orphans: dict[tuple, deque] = {}  # index key -> unclaimed FT events, oldest first
        self._deadlines: list = []  # heap of (deadline, seq, Pending | Orphan)
        self._open: dict[int, Pending] = {}
        self._orphan_count = 0
        self._ids: OrderedDict = OrderedDict()  # input ids seen (a driver's retried POST counts once)
        self._last_seq: OrderedDict = OrderedDict()  # (source, user) -> seq of the latest paired input
        self.judged: deque = deque(maxlen=keep)
        self.problems: deque = deque(maxlen=keep)
        self.counts = {"inputs": 0, "expected": 0, "paired": 0, "missing": 0, "extra": 0, "late": 0,
                       "not_sent": 0, "problems": 0, "retried_inputs": 0}
        self.by_rule: dict[str, dict[str, int]] = {}
        self.latency = Histogram()
        self.active = False

    # -- the two sides ---------------------------------------------------------------------------------

    def register(self, items: list[dict]) -> dict:
        """Inputs a driver sent: {id, source, kind, sent_at, body, answer?, violations?}. Raises ValueError
        naming the item and the field when one is not of that shape (nothing of the batch is kept then)."""
        checked = [self._checked(i, n) for n, i in enumerate(items)]
        accepted = 0
        with self._lock:
            self.active = True  # a driver is running (an empty batch announces it before its first input)
            now = self.clock()
            for item, mapping, sent_at in checked:
                if item["id"] in self._ids:
                    self.counts["retried_inputs"] += 1
                    continue
                self._ids[item["id"]] = None
                if len(self._ids) > IDS_KEPT:
                    self._ids.popitem(last=False)
                accepted += 1
                self._register_one(item, mapping, sent_at, now)
            self._expire(now)
        return {"accepted": accepted, "retried": len(checked) - accepted}

    def _checked(self, item, n: int):
        where = f"inputs[{n}]"
        if not isinstance(item, dict):
            raise ValueError(f"{where}: expected an object, got {type(item).__name__}")
        for name in ("id", "source", "kind", "sent_at"):
            if not isinstance(item.get(name), str) or not item[name]:
                raise ValueError(f"{where}.{name}: expected a non-empty string, got {item.get(name)!r}")
        mapping = self.mappings.get(item["source"])
        if mapping is None:
            raise ValueError(f"{where}.source: no mapping for {item['source']!r}; expected one of "
                             f"{', '.join(sorted(self.mappings))}")
        if not isinstance(item.get("body"), dict):
            raise ValueError(f"{where}.body: expected the input's JSON object")
        sent_at = parse_rfc3339(item["sent_at"])
        if sent_at is None:
            raise ValueError(f"{where}.sent_at: expected an RFC 3339 UTC time, got {item['sent_at']!r}")
        for k, v in enumerate(item.get("violations") or ()):
            if not isinstance(v, dict) or not isinstance(v.get("rule"), str) or not isinstance(v.get("message"), str):
                raise ValueError(f"{where}.violations[{k}]: expected {{rule, path, message}}")
        return item, mapping, sent_at

    def _register_one(self, item, mapping: Mapping, sent_at, now) -> None:
        self.counts["inputs"] += 1
        inp = Input(item["id"], item["source"], item["kind"], sent_at, next(self._seq))
        inp.violations = self.severities.stamp([Violation(v["rule"], v.get("path", ""), v["message"])
                                                for v in item.get("violations") or ()])
        doc = {**item["body"], "answer": item.get("answer")}
        grace = self.grace or mapping.grace
        expects = mapping.for_input(item["kind"], doc)
        inp.open = len(expects)  # held open until each is judged, so one claimed at once cannot close it early
        for expect in expects:
            wants = expect.wants(doc)
            if "user_id" in wants:
                inp.user_id = wants["user_id"].value
            values = {f: w.value for f, w in wants.items()}
            p = Pending(inp, expect, wants, self._keys(expect, values), now + grace, next(self._seq))
            if not expect.forbid:
                self.counts["expected"] += 1
            orphan = self._claim(self._orphans, p.keys[:1])
            if orphan is not None:
                self._orphan_count -= 1
                self._pair(p, orphan.payload, orphan.message_id, orphan.received_at)
                continue
            for k in p.keys:
                self._waiting.setdefault(k, deque()).append(p)
            self._open[id(p)] = p
            heapq.heappush(self._deadlines, (p.deadline, p.seq, p))
        if not expects:
            self._finish(inp)
        while len(self._open) > self.max_pending:
            self._overflow()

    def watch(self, envelopes, verdicts) -> None:
        """Intake's committed batches: the FT events that arrived (any channel, valid or not; retries once)."""
        if not self._shapes:
            return
        with self._lock:
            now = self.clock()
            if not self.active and not self._open:
                # No driver announced a run and no input waits: no event of this batch can pair or be an
                # orphan, so reading their bodies again (about a tenth of intake's CPU) would find nothing.
                self._expire(now)
                return
            for env, verdict in zip(envelopes, verdicts):
                if verdict.duplicate or verdict.redelivered or env.marker not in self._shapes:
                    continue
                try:
                    payload = orjson.loads(env.raw)
                except orjson.JSONDecodeError:
                    continue
                if isinstance(payload, dict):
                    self._arrived(env.marker, payload, verdict.id, env.received_at, now)
            self._expire(now)

    def _arrived(self, marker, payload, message_id, received_at, now) -> None:
        for expect in self._shapes[marker]:
            if not expect.sees(marker, payload):
                continue
            values = {f: dig(payload, f) for f in expect.key}
            keys = self._keys(expect, {f: (None if v is MISSING else v) for f, v in values.items()})
            p = self._claim(self._waiting, keys[:1])
            if p is not None:
                self._drop(p)
                self._pair(p, payload, message_id, received_at)
                return
            if not self.active:
                return  # no driver has announced a run: the events are someone else's
            grace = self.grace or max(m.grace for m in self.mappings.values())
            o = Orphan(marker, payload, message_id, received_at, keys, now + grace, expect.label())
            for k in keys:
                self._orphans.setdefault(k, deque()).append(o)
            self._orphan_count += 1
            heapq.heappush(self._deadlines, (o.deadline, next(self._seq), o))
            while self._orphan_count > self.max_pending:
                self._expire_orphan_early()
            return

    @staticmethod
    def _keys(expect: Expect, values: dict) -> list[tuple]:
        """The exact key first, then each key with one field left out (that field then differs: pipeline.user
        or pipeline.round, rather than a missing and an extra for one event)."""
        shape = _shape(expect)
        keys = [(shape, None, expect.key_of(values))]
        if len(expect.key) > 1:
            for f in expect.key:
                rest = tuple(k for k in expect.key if k != f)
                keys.append((shape, f, expect.key_of(values, rest)))
        return keys

    @staticmethod
    def _claim(index: dict, keys: list[tuple], fits=None):
        """The oldest item waiting under the first of keys that has one (and that `fits`), taken out."""
        for k in keys:
            q = index.get(k)
            while q and q[0].done:
                q.popleft()
            for found in list(q or ()):
                if found.done or (fits is not None and not fits(found)):
                    continue
                found.done = True
                for other in found.keys:
                    _discard(index, other, found)
                return found
            if q is not None and not q:
                del index[k]
        return None

    def _drop(self, p: Pending) -> None:
        self._open.pop(id(p), None)
        for k in p.keys:
            _discard(self._waiting, k, p)

    # -- judging ---------------------------------------------------------------------------------------

    def _pair(self, p: Pending, payload: dict, message_id, received_at) -> None:
        p.done = True
        inp = p.input
        found: list[Violation] = []
        label = p.expect.label()
        if p.expect.forbid:
            found.append(Violation("pipeline.extra", "", self._extra_after_refusal(p, label, message_id)))
            self.counts["extra"] += 1
            status = "sent_though_refused"
        else:
            status = "paired"
            self.counts["paired"] += 1
            for field, want in p.wants.items():
                v = _compare(field, want, dig(payload, field), label, inp)
                if v is not None:
                    found.append(v)
            latency_ms = (received_at - inp.sent_at).total_seconds() * 1000
            budget = (self.budget or self.mappings[inp.source].latency_budget) * 1000
            self.latency.add(max(latency_ms, 0.0), budget)
            if latency_ms > budget:
                self.counts["late"] += 1
                found.append(Violation("pipeline.latency", "", f"{label} for {inp.source} input {inp.id} "
                                       f"arrived {latency_ms:.0f} ms after the input was sent; the budget is "
                                       f"{budget:.0f} ms"))
            user = (inp.source, str(inp.user_id))
            last = self._last_seq.get(user)
            if last is not None and last > inp.seq:
                found.append(Violation("pipeline.order", "", f"{label} for {inp.source} input {inp.id} "
                                       f"arrived after the FT event of a later input of user {inp.user_id}: the "
                                       f"feed reorders this user's events"))
            else:
                self._last_seq[user] = inp.seq
                self._last_seq.move_to_end(user)
                if len(self._last_seq) > self.max_pending:
                    self._last_seq.popitem(last=False)
        event = {"expect": label, "status": status, "message_id": message_id, "received_at": iso(received_at),
                 "latency_ms": round((received_at - inp.sent_at).total_seconds() * 1000, 3),
                 "violations": self._stamp(found)}
        self._close(p, event)

    def _extra_after_refusal(self, p: Pending, label: str, message_id) -> str:
        answer = p.expect.when
        return (f"{label} (message {message_id}) arrived for {p.input.source} input {p.input.id}, "
                f"whose {', '.join(f'{k} = {_lit(v)}' for k, v in answer.items())} means no {label} may follow")

    def _close(self, p: Pending, event: dict) -> None:
        inp = p.input
        inp.events.append(event)
        inp.open -= 1
        if not inp.open:
            self._finish(inp)

    def _finish(self, inp: Input) -> None:
        doc = inp.as_dict()
        self.judged.append(doc)
        if doc["verdict"] == "problem":
            self.counts["problems"] += 1
            self.problems.append(doc)

    def _stamp(self, found: list[Violation]) -> list[Violation]:
        out = [v for v in self.severities.stamp(found) if v.severity != "off"]
        for v in out:
            counts = self.by_rule.setdefault(v.rule, {})
            counts[v.severity] = counts.get(v.severity, 0) + 1
        return out

    def _expire(self, now: float) -> None:
        while self._deadlines and self._deadlines[0][0] <= now:
            _, _, item = heapq.heappop(self._deadlines)
            if item.done:
                continue
            # Only now, with no exact partner in time, an input and an FT event that agree on all key
            # fields but one are taken for each other: that field is then wrong (pipeline.round ...).
            # Earlier, the FT event's own input may just not be registered yet.
            if isinstance(item, Pending):
                self._drop(item)
                orphan = None if item.expect.forbid else self._claim(self._orphans, item.keys[1:])
                if orphan is not None:
                    self._orphan_count -= 1
                    self._pair(item, orphan.payload, orphan.message_id, orphan.received_at)
                else:
                    self._missed(item, "pipeline.missing", None)
            else:
                p = self._claim(self._waiting, item.keys[1:], lambda p: not p.expect.forbid)
                if p is not None:
                    item.done = True
                    self._orphan_count -= 1
                    for k in item.keys:
                        _discard(self._orphans, k, item)
                    self._drop(p)
                    self._pair(p, item.payload, item.message_id, item.received_at)
                else:
                    self._orphan_extra(item)

    def _missed(self, p: Pending, rule: str, why: str | None) -> None:
        p.done = True
        label, inp = p.expect.label(), p.input
        if p.expect.forbid:
            self.counts["not_sent"] += 1
            self._close(p, {"expect": f"no {label}", "status": "not_sent", "message_id": None, "violations": []})
            return
        self.counts["missing"] += 1
        wanted = ", ".join(f"{f} {_lit(w.value)}" for f, w in p.wants.items() if f in p.expect.key)
        text = why or (f"no {label} ({wanted}) arrived within {self.grace or self.mappings[inp.source].grace:g} s "
                       f"of {inp.source} input {inp.id}")
        found = [Violation(rule, "", text)]
        if rule != "pipeline.missing":
            found.append(Violation("pipeline.missing", "", text))
        self._close(p, {"expect": label, "status": "missing", "message_id": None, "violations": self._stamp(found)})

    def _overflow(self) -> None:
        oldest = min(self._open.values(), key=lambda p: p.seq)
        self._drop(oldest)
        self._missed(oldest, "pipeline.overflow", f"more than {self.max_pending} inputs were waiting: "
                                                  f"{oldest.input.source} input {oldest.input.id} was "
                                                  f"closed before its {oldest.expect.label()} arrived")

    def _orphan_extra(self, o: Orphan) -> None:
        o.done = True
        self._orphan_count -= 1
        for k in o.keys:
            _discard(self._orphans, k, o)
        self.counts["extra"] += 1
        ids = ", ".join(f"{k} {_lit(o.payload.get(k))}" for k in ("user_id", "round_id", "payment_id", "activity_id")
                        if k in o.payload)
        found = self._stamp([Violation("pipeline.extra", "", f"{o.label} (message {o.message_id}; {ids}) matches "
                                       f"no input: no callback or bus event asked for it")])
        doc = {"input": None, "source": None, "kind": None, "sent_at": None,
               "user_id": o.payload.get("user_id"), "verdict": "problem" if found else "clean", "violations": [],
               "events": [{"expect": o.label, "status": "extra", "message_id": o.message_id,
                           "received_at": iso(o.received_at), "violations": [v.as_dict() for v in found]}]}
        self.judged.append(doc)
        if found:
            self.counts["problems"] += 1
            self.problems.append(doc)

    def _expire_orphan_early(self) -> None:
        for _, _, item in sorted(self._deadlines, key=lambda d: d[0]):
            if isinstance(item, Orphan) and not item.done:
                self._orphan_extra(item)
                return

    # -- reading ---------------------------------------------------------------------------------------

    def summary(self) -> dict:
        with self._lock:
            self._expire(self.clock())
            budgets = {m.latency_budget for m in self.mappings.values()}
            budget = (self.budget or (max(budgets) if budgets else 1.0)) * 1000
            return {**self.counts, "active": self.active, "pending": len(self._open), "unclaimed": self._orphan_count,
                    "by_rule": {r: dict(c) for r, c in sorted(self.by_rule.items())},
                    "latency_ms": {"p50": self.latency.quantile(0.5), "p99": self.latency.quantile(0.99),
                                   "budget": budget, "measured": self.latency.total, "over": self.latency.over},
                    "sources": sorted(self.mappings)}

    def inputs(self, *, verdict=None, rule=None, input_id=None, limit=100, offset=0) -> tuple[list[dict], int]:
        """Judged inputs, newest first (verdict problem reads the problems kept apart, so clean runs do not
        push them out), or the ones still pending."""
        with self._lock:
            self._expire(self.clock())
            if verdict == "pending":
                seen, rows = set(), []
                for p in sorted(self._open.values(), key=lambda p: p.seq):
                    if id(p.input) not in seen:
                        seen.add(id(p.input))
                        rows.append(p.input.as_dict())
            else:
                rows = list(self.problems if verdict == "problem" else self.judged)[::-1]
                if verdict == "clean":
                    rows = [r for r in rows if r["verdict"] == "clean"]
        if rule:
            rows = [r for r in rows if any(v["rule"] == rule for v in r["violations"] + [
                v for e in r["events"] for v in e["violations"]])]
        if input_id:
            rows = [r for r in rows if r["input"] == input_id]
        return rows[offset:offset + limit], len(rows)

    def clear(self) -> None:
        with self._lock:
            self.__init__(list(self.mappings.values()), self.severities, grace=self.grace,
                          latency_budget=self.budget, max_pending=self.max_pending, keep=self.judged.maxlen,
                          clock=self.clock)


def _discard(index: dict, key, item) -> None:
    q = index.get(key)
    if q is None:
        return
    try:
        q.remove(item)
    except ValueError:
        pass
    if not q:
        del index[key]


def _lit(v) -> str:
    return "true" if v is True else "false" if v is False else "absent" if v is MISSING else (
        f'"{v}"' if isinstance(v, str) else str(v))


def _compare(field: str, want, got, label: str, inp: Input) -> Violation | None:
    path = pointer(p for part in field.split(".") for p in [part])
    where = f"{label} {field} for {inp.source} input {inp.id}"
    if got is MISSING:
        return Violation(want.rule, path, f"{where}: expected {_lit(want.value)} (from {want.source}), got no "
                                          f"such field")
    if want.unit is not None:
        amount = to_money(got)
        if amount is not None and amount == want.value:
            return None
        shown = _lit(got) if amount is None else as_sent(amount)  # money as money: 150.00, not the double 150.0
        return Violation(want.rule, path, f"{where}: expected {as_sent(want.value)} (from {want.source}), got "
                                          f"{shown}" + _unit_hint(want, amount))
    if isinstance(want.value, str):
        if isinstance(got, (str, int)) and not isinstance(got, bool) and str(got) == want.value:
            return None
    elif got == want.value and isinstance(got, bool) == isinstance(want.value, bool):
        return None
    return Violation(want.rule, path, f"{where}: expected {_lit(want.value)} (from {want.source}), got {_lit(got)}")


def _unit_hint(want, got: Decimal | None) -> str:
    """The likely unit error behind a wrong amount: a power of ten off by the currency's precision."""
    if got is None or not want.value:
        return ""
    digits = want.precision if want.precision else 2
    scale = Decimal(10) ** digits
    if got == want.value * scale:
        return (f": {scale} times the expected, likely minor units (cents) sent as major units"
                if digits == 2 else f": 10^{digits} times the expected, likely minor units sent as major units")
    if got * scale == want.value:
        return f": 1/{scale} of the expected, likely major units divided by 10^{digits} once more (units sent as cents)"
    for d in (1, 2, 3):
        if d != digits and got == want.value * Decimal(10) ** d:
            return f": 10^{d} times the expected, likely the wrong currency precision ({d} digits, not {digits})"
    return ""
