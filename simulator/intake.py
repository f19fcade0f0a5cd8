"""The one path every message takes: parse, validate, apply rules, build rounds, store, answer.

Transports call `Intake.judge(envelopes)`; it returns only after the verdicts are committed, so a
transport may acknowledge (200, AMQP ack, Kafka commit) as soon as it returns, and must not if it raises.
"""
from __future__ import annotations

import hashlib
import json
import threading
from decimal import Decimal
from typing import Callable, Iterable

import orjson

from simulator.contract import rules
from simulator.contract.describe import json_kind
from simulator.contract.plugin import Facts
from simulator.contract.registry import Registry
from simulator.contract.validate import make_validator
from simulator.core.envelope import Envelope, Verdict
from simulator.core.errors import StoreError
from simulator.store.base import MessageRecord, Store
from simulator.core.timefmt import parse_rfc3339
from simulator.core.violations import Severities, Violation

RETRY_RULES = ("activity.retry", "activity.duplicate")


def parse_body(raw: bytes) -> tuple[dict | None, Violation | None]:
    try:
        obj = orjson.loads(raw)  # strict RFC 8259: rejects invalid UTF-8, NaN and Infinity
    except orjson.JSONDecodeError:
        return None, _why_not_json(raw)
    if not isinstance(obj, dict):
        hint = "; send each event as a message of its own" if isinstance(obj, list) else ""
        return None, Violation("json.parse", "", f"body: expected a JSON object, got {json_kind(obj)}{hint}")
    return obj, None


def _why_not_json(raw: bytes) -> Violation:
    """The words for a body orjson refused: the slow, friendly path, taken only for bad input."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        return Violation("json.parse", "", f"body: expected UTF-8 text, got the invalid byte "
                                           f"0x{raw[e.start]:02x} at offset {e.start}")
    try:
        json.loads(text, parse_constant=_no_constants)
        reason = "not valid JSON"
    except ValueError as e:
        reason = f"{e.msg} at line {e.lineno} column {e.colno}" if isinstance(e, json.JSONDecodeError) else str(e)
    shown = text[:40] + ("..." if len(text) > 40 else "")
    return Violation("json.parse", "", f"body: expected a JSON object, got text that is not JSON "
                                       f"({reason}): {shown!r}")


def _no_constants(name):
    raise ValueError(f"{name} is not a JSON number")


def _text(payload: dict | None, key: str) -> str | None:
    value = payload.get(key) if payload else None
    return value if isinstance(value, str) else (str(value) if isinstance(value, int) and not
                                                 isinstance(value, bool) else None)


class _Waiter:
    """A caller of Intake.one waiting for its verdict, or for its turn to lead."""
    __slots__ = ("envelope", "verdict", "error", "done", "wake")

    def __init__(self, envelope: Envelope):
        self.envelope, self.verdict, self.error, self.done = envelope, None, None, False
        self.wake = threading.Lock()
        self.wake.acquire()  # released once: when its message is judged, or when it is made leader


class Intake:
    group_max = 256  # the most messages one group commit takes

    def __init__(self, store: Store, registry: Registry, *, profile="strict", severities: Severities,
                 latency_budget=1.0, amount_tolerance=Decimal("0.01"), engine="rust"):
        self.store = store
        self.registry = registry
        self.severities = severities
        self.latency_budget = latency_budget
        self.amount_tolerance = amount_tolerance
        self.profile = profile
        self.validators = {t.name: make_validator(t, profile, engine) for t in registry}
        self.markers = ", ".join(registry.markers())
        self._lock = threading.Lock()  # one judge at a time: the ledger reads what the last one wrote
        self._subscribers: list[Callable[[list[Verdict]], None]] = []
        self._queue: list[_Waiter] = []  # callers of one() whose message is not judged yet
        self._queue_lock = threading.Lock()
        self._leading = False  # one caller of one() is judging the queue for everyone

    def subscribe(self, fn: Callable[[list[Verdict]], None]) -> None:
        """Call fn with each committed batch of verdicts (the live page, --until-idle)."""
        self._subscribers.append(fn)

    def one(self, envelope: Envelope) -> Verdict:
        """Judge and store one message; returns once its verdict is committed, raises if it was not.

        Group commit: concurrent callers (REST threads) share transactions. The first caller leads: it
        judges everything queued as one batch, wakes each caller with its own verdict, repeats until its
        own message is done, then hands the lead to the oldest caller still queued."""
        me = _Waiter(envelope)
        with self._queue_lock:
            self._queue.append(me)
            lead = not self._leading
            self._leading = True
        if not lead:
            me.wake.acquire()  # judged by a leader, or made leader
        if not me.done:
            try:
                while not me.done:
                    with self._queue_lock:
                        batch = self._queue[:self.group_max]
                        del self._queue[:self.group_max]
                    self._judge_group(batch, me)
            finally:
                with self._queue_lock:
                    successor = self._queue[0] if self._queue else None
                    self._leading = successor is not None
                if successor is not None:
                    successor.wake.release()
        if me.error is not None:
            raise me.error
        return me.verdict

    def _judge_group(self, batch: list[_Waiter], leader: _Waiter) -> None:
        results = [(None, RuntimeError("intake stopped before judging this message"))] * len(batch)
        try:
            try:
                results = [(v, None) for v in self.judge([w.envelope for w in batch])]
            except StoreError as exc:  # the store failed, not a message: every caller gets the error
                results = [(None, exc)] * len(batch)
            except Exception:  # a message tripped a bug: one at a time, so only that caller fails
                results = [self._judge_alone(w.envelope) for w in batch]
        finally:
            for w, (verdict, error) in zip(batch, results):
                w.verdict, w.error, w.done = verdict, error, True
                if w is not leader:
                    w.wake.release()

    def _judge_alone(self, envelope: Envelope):
        try:
            return self.judge([envelope])[0], None
        except Exception as exc:
            return None, exc

    def judge(self, envelopes: Iterable[Envelope]) -> list[Verdict]:
        """Judge and store a batch in one transaction. Raises StoreError when nothing was committed."""
        with self._lock:
            with self.store.batch() as tx:
                verdicts = [self._judge_one(tx, e) for e in envelopes]
            for fn in self._subscribers:
                fn(verdicts)
        return verdicts

    def _judge_one(self, tx, env: Envelope) -> Verdict:
        if env.maybe_redelivered and env.delivery_key:
            prior = tx.delivery(env.delivery_key)
            if prior is not None:  # stored before a crash or lost ack: the verdict stands, counted once
                return prior
        found: list[Violation] = []
        payload, problem = parse_body(env.raw)
        if env.type_name is not None:
            event_type = self.registry.types[env.type_name]
        else:
            event_type = self.registry.for_marker(env.marker, payload)
        if event_type is None:
            got = "no type marker" if env.marker is None else f"type {env.marker!r}"
            found.append(Violation("transport.type", "", f"{env.channel}: expected the type marker "
                                   f"{self.markers} ({_MARKER_WHERE.get(env.channel, 'type')}), got {got}"))
        if problem:
            found.append(problem)
        timestamp = book = plan = remember = None
        shared_plans: list = []
        if payload is not None and event_type is not None:
            found += self.validators[event_type.name].violations(payload)
            timestamp = parse_rfc3339(payload.get("timestamp"))
            facts = Facts(payload, event_type, env.received_at, timestamp, self.latency_budget,
                          self.amount_tolerance, self.profile)
            found += rules.check(facts)
            found = self.severities.stamp(found)
            book = event_type.book
            # An event that is already an error never reaches its book: it changes no state.
            if not _has_error(found):
                seen = self._seen_before(tx, event_type, payload)
                if seen is not None:
                    found += self.severities.stamp(seen[0])
                    remember, book = seen[1], (None if seen[0] else book)
                if book is not None:
                    more, plan = book.judge(tx, facts)
                    found += self.severities.stamp(more)
                for shared in self.registry.shared:
                    more, shared_plan = shared.judge(tx, facts)
                    found += self.severities.stamp(more)
                    if shared_plan is not None:
                        shared_plans.append((shared, shared_plan))
        else:
            found = self.severities.stamp(found)
        valid = not _has_error(found)
        if valid:
            if plan is not None:
                book.apply(tx, plan)
            for shared, shared_plan in shared_plans:
                shared.apply(tx, shared_plan)
            if remember is not None:
                tx.put(f"seen.{event_type.name}", remember[0], {"digest": remember[1]},
                       user_id=_text(payload, "user_id"))
        duplicate = any(v.rule in RETRY_RULES for v in found)
        latency = (env.received_at - timestamp).total_seconds() * 1000 if timestamp else None
        ref = event_type.ref if event_type is not None else None
        record = MessageRecord(env.channel, env.received_at, env.marker, env.raw, env.source,
                               event_type.name if event_type else None, _text(payload, ref) if ref else None,
                               _text(payload, "user_id"), _text(payload, "round_id"), valid, duplicate, found,
                               latency, env.delivery_key)
        return Verdict(tx.add_message(record), valid, found, duplicate, record.event)

    @staticmethod
    def _seen_before(tx, event_type, payload) -> tuple[list[Violation], tuple | None] | None:
        """Retries and conflicting duplicates by the type's identity: (violations, what to remember)."""
        if event_type.identity is None:
            return None
        key = event_type.identity(payload)
        if key is None:
            return None
        digest = hashlib.blake2b(orjson.dumps(payload, option=orjson.OPT_SORT_KEYS), digest_size=16).hexdigest()
        prior = tx.get(f"seen.{event_type.name}", key)
        if prior is None:
            return [], (key, digest)
        where = f"/{event_type.ref}" if event_type.ref else ""
        if prior["digest"] == digest:
            return [Violation("activity.retry", where, f"{event_type.marker} {key} was received before with the "
                                                       f"same payload; a retry, counted once")], None
        return [Violation("activity.duplicate", where, f"{event_type.marker} {key} was already received with a "
                                                       f"different payload; expected a unique id per event (or "
                                                       f"the same payload for a retry)")], None


def _has_error(found: list[Violation]) -> bool:
    return any(v.severity == "error" for v in found)


_MARKER_WHERE = {"rabbit": "AMQP message property 'type'; headers are ignored",
                 "kafka": "Kafka message header 'type'", "rest": "taken from the REST path"}
