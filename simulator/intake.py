"""The one path every message takes: parse, validate, apply rules, build rounds, store, answer.

Transports call `Intake.judge(envelopes)`; it returns only after the verdicts are committed, so a
transport may acknowledge (200, AMQP ack, Kafka commit) as soon as it returns, and must not if it raises.
"""
from __future__ import annotations

import logging
import secrets
import threading
from decimal import Decimal
from typing import Callable, Iterable

from . import ledger, rules
from .contract.parse import parse
from .contract.registry import Registry
from .contract.validate import make_validator
from .envelope import Envelope, Verdict
from .errors import StoreError
from .store.base import MessageRecord, Store
from .timefmt import parse_rfc3339
from .violations import Severities, Violation, capped

LEDGERS = {"casino": ledger}  # event types whose events build rounds
RETRY_RULES = ("activity.retry", "activity.duplicate")
log = logging.getLogger("ftsim")


def parse_body(raw: bytes) -> tuple[dict | None, Violation | None]:
    """The old shape of parse.parse (payload, its first problem), kept for callers from before the move."""
    payload, problems = parse(raw)
    return payload, problems[0] if problems else None


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
        self.validators = {t.marker: make_validator(t, profile, engine) for t in registry}
        self.markers = ", ".join(sorted(registry.by_marker))
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
        envelopes = list(envelopes)
        with self._lock:
            try:
                with self.store.batch() as tx:
                    verdicts = [self._judge_one(tx, e) for e in envelopes]
            except StoreError:
                raise
            except Exception:  # storing tripped a bug (judging bugs are caught per message): one at a time
                log.exception("intake: a batch of %d failed to store; storing its messages one by one",
                              len(envelopes))
                verdicts = [self._store_alone(e) for e in envelopes]
            for fn in self._subscribers:
                try:
                    fn(verdicts)
                except Exception:  # committed already: a failing watcher must not make it look lost
                    log.exception("intake: a subscriber failed on a committed batch")
        return verdicts

    def _store_alone(self, env: Envelope) -> Verdict:
        """One message in a transaction of its own; if even that trips a bug, it is stored unjudged, with
        the verdict that says so, so that it is not delivered again and again."""
        try:
            with self.store.batch() as tx:
                return self._judge_one(tx, env)
        except StoreError:
            raise
        except Exception as exc:
            found = self.severities.stamp([_internal(env, exc)])
            with self.store.batch() as tx:
                return self._record(tx, env, self.validators.get(env.marker), None, None, found,
                                    not _has_error(found), False)

    def _judge_one(self, tx, env: Envelope) -> Verdict:
        if env.maybe_redelivered and env.delivery_key:
            prior = tx.delivery(env.delivery_key)
            if prior is not None:  # stored before a crash or lost ack: the verdict stands, counted once
                return prior
        validator = self.validators.get(env.marker)
        try:
            payload, timestamp, book, plan, found = self._examine(tx, env, validator)
        except StoreError:
            raise
        except Exception as exc:  # a bug in ftsim: this message gets a verdict that says so, the batch goes on
            payload = timestamp = book = plan = None
            found = self.severities.stamp([_internal(env, exc)])
        valid = not _has_error(found)
        if plan is not None and valid:
            book.apply(tx, plan)
        duplicate = any(v.rule in RETRY_RULES for v in found)
        return self._record(tx, env, validator, payload, timestamp, capped(found), valid, duplicate)

    def _record(self, tx, env, validator, payload, timestamp, found, valid, duplicate) -> Verdict:
        latency = (env.received_at - timestamp).total_seconds() * 1000 if timestamp else None
        record = MessageRecord(env.channel, env.received_at, env.marker, env.raw, env.source,
                               validator.event_type.name if validator else None, _text(payload, "activity_id"),
                               _text(payload, "user_id"), _text(payload, "round_id"), valid, duplicate, found,
                               latency, env.delivery_key)
        return Verdict(tx.add_message(record), valid, found, duplicate, record.event)

    def _examine(self, tx, env: Envelope, validator):
        """Everything that judges and nothing that writes, so a bug here leaves the transaction untouched."""
        found: list[Violation] = []
        if validator is None:
            got = "no type marker" if env.marker is None else f"type {env.marker!r}"
            found.append(Violation("transport.type", "", f"{env.channel}: expected the type marker "
                                   f"{self.markers} ({_MARKER_WHERE.get(env.channel, 'type')}), got {got}"))
        payload, problems = parse(env.raw)
        found += problems
        timestamp = book = plan = None
        if payload is not None and validator is not None:
            event_type = validator.event_type
            found += validator.violations(payload)
            timestamp = parse_rfc3339(payload.get("timestamp"))
            found += rules.check(rules.Facts(payload, event_type.fields, env.received_at, timestamp,
                                             self.latency_budget, self.amount_tolerance))
            found = self.severities.stamp(found)
            book = LEDGERS.get(event_type.name)
            # An event that is already an error never reaches the ledger, so its digest is not worth making.
            event = book.Event.of(payload, timestamp) if book is not None and not _has_error(found) else None
            if event is not None:
                more, plan = book.judge(tx, event)
                found += self.severities.stamp(more)
        else:
            found = self.severities.stamp(found)
        return payload, timestamp, book, plan, found


def _internal(env: Envelope, exc: Exception) -> Violation:
    """The verdict for a message ftsim failed to judge: the sender learns it is ftsim's bug, the log has why."""
    incident = secrets.token_hex(4)
    log.error("intake: could not judge a %s message (%s), incident %s", env.channel, env.source or "no source",
              incident, exc_info=exc)
    return Violation("ftsim.internal", "", f"ftsim could not judge this message: a bug in ftsim, not "
                                           f"necessarily in the message ({type(exc).__name__}, incident "
                                           f"{incident} in ftsim's log); please report it")


def _has_error(found: list[Violation]) -> bool:
    return any(v.severity == "error" for v in found)


_MARKER_WHERE = {"rabbit": "AMQP message property 'type'; headers are ignored",
                 "kafka": "Kafka message header 'type'", "rest": "taken from the REST path"}
