"""The one path every message takes: parse, look the type up, validate, apply rules, ask the books, store, answer.

Transports call `Intake.judge(envelopes)`; it returns only after the verdicts are committed, so a
transport may acknowledge (200, AMQP ack, Kafka commit) as soon as it returns, and must not if it raises.
"""
from __future__ import annotations

import logging
import secrets
import threading
from decimal import Decimal
from typing import Callable, Iterable


from simulator.contract import rules
from simulator.contract.parse import digest, parse, parse_canonical
from simulator.contract.plugin import Facts
from simulator.contract.registry import Registry
from simulator.contract.validate import make_validator
from simulator.core.combining import Combiner
from simulator.core.envelope import Envelope, Verdict
from simulator.core.errors import StoreError
from simulator.store.base import MessageRecord, Store
from simulator.core.timefmt import parse_rfc3339
from simulator.core.violations import Severities, Violation, capped

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
        self.shared = tuple(book for book in registry.shared if not _switched_off(book, severities))
        self._lock = threading.Lock()  # one judge at a time: the ledger reads what the last one wrote
        self._subscribers: list[Callable[[list[Verdict]], None]] = []
        self._watchers: list[Callable[[list[Envelope], list[Verdict]], None]] = []
        # one()'s callers, sharing commits; what arrives while the disk flushes joins the next one
        self._group = Combiner(self._judge_queued, self.group_max, hold=store.disk_idle)

    def subscribe(self, fn: Callable[[list[Verdict]], None]) -> None:
        """Call fn with each committed batch of verdicts (the live page, --until-idle)."""
        self._subscribers.append(fn)

    def watch(self, fn: Callable[[list[Envelope], list[Verdict]], None]) -> None:
        """Like subscribe, with each verdict's envelope beside it (the pipeline pairing reads the bodies)."""
        self._watchers.append(fn)

    def one(self, envelope: Envelope) -> Verdict:
        """Judge and store one message; returns once its verdict is committed, raises if it was not.

        Group commit (simulator/core/combining.py): concurrent callers (REST threads) share transactions.
        The part that needs no history is judged first, in the caller's thread and outside every lock:
        while a leader waits for SQLite (which runs without the GIL), the other callers get on with theirs.
        A leader first waits for the fsync under way, so that what arrives meanwhile joins its commit; the
        wait for its own fsync comes after the lead is handed on."""
        verdict, ticket = self._group.submit((envelope, self._stateless_or_error(envelope)))
        self.store.sync(ticket)  # one fsync for every caller waiting at once
        return verdict

    def _judge_queued(self, items: list[tuple[Envelope, object]]):
        results, ticket = self.judge_each([e for e, _ in items], [p for _, p in items])
        return [(None, error) if error is not None else ((verdict, ticket), None) for verdict, error in results]

    def judge_each(self, envelopes: list[Envelope], stateless: list) -> tuple[list[tuple], object]:
        """judge() for callers that each wait for their own message: ([(verdict, None) or (None, the error)],
        the commit's ticket). Committed, not yet durable: nothing may be acknowledged before
        `store.sync(ticket)` returns, which the caller waits for outside intake's lock (the hub, from the
        thread that answers)."""
        try:
            verdicts, ticket = self.commit(envelopes, stateless)
            return [(v, None) for v in verdicts], ticket
        except StoreError as exc:  # the store failed, not a message: every caller gets the error
            return [(None, exc)] * len(envelopes), None
        except Exception:  # a message tripped a bug: one at a time, so only that caller fails
            return [self._judge_alone(e) for e in envelopes], None

    def _judge_alone(self, envelope: Envelope):
        try:
            return self.judge([envelope])[0], None
        except Exception as exc:
            return None, exc

    def judge(self, envelopes: Iterable[Envelope], *, stateless: list | None = None) -> list[Verdict]:
        """Judge and store a batch in one transaction. Raises StoreError when nothing was committed, or when
        what was committed could not be made durable: either way nothing may be acknowledged. The wait for
        the disk comes after intake's lock is let go, so the next batch is judged meanwhile.

        stateless: what `stateless` found for each envelope, when the caller judged that part already."""
        verdicts, ticket = self.commit(envelopes, stateless)
        self.store.sync(ticket)
        return verdicts

    def commit(self, envelopes: Iterable[Envelope], stateless: list | None = None):
        """judge() for a caller that waits for the disk itself: (verdicts, the ticket `store.sync` waits on;
        None when already durable). Nothing may be acknowledged before that sync returned."""
        envelopes = list(envelopes)
        pre = stateless if stateless is not None else [self._stateless_or_error(e) for e in envelopes]
        ticket = None
        with self._lock:
            try:
                with self.store.batch(sync=False) as tx:
                    self._prefetch(tx, pre)
                    verdicts = [self._judge_one(tx, e, p) for e, p in zip(envelopes, pre)]
                ticket = tx.ticket
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
            for fn in self._watchers:
                try:
                    fn(envelopes, verdicts)
                except Exception:
                    log.exception("intake: a watcher failed on a committed batch")
        return verdicts, ticket

    def _prefetch(self, tx, pre: list) -> None:
        """A book that can (`prefetch(tx, [facts])`) reads the rows the batch will ask for at once, rather
        than one statement an event. A bug there costs only the speed: the look-ups happen one by one."""
        books: dict[int, tuple] = {}  # by id: a book need not be hashable
        for p in pre:
            facts = None if isinstance(p, _Failed) else p[4]
            if facts is not None and hasattr(facts.event_type.book, "prefetch"):
                books.setdefault(id(facts.event_type.book), (facts.event_type.book, []))[1].append(facts)
        for book, batch in books.values():
            try:
                book.prefetch(tx, batch)
            except StoreError:
                raise
            except Exception:
                log.exception("intake: %s could not prefetch; its look-ups go one by one", type(book).__name__)

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
                return self._record(tx, env, None, None, None, found,
                                    not _has_error(found), False)

    def _judge_one(self, tx, env: Envelope, pre=None) -> Verdict:
        if env.maybe_redelivered and env.delivery_key:
            prior = tx.delivery(env.delivery_key)
            if prior is not None:  # stored before a crash or lost ack: the verdict stands, counted once
                return prior
        try:
            payload, event_type, timestamp, found, plans, remember = self._examine(tx, env, pre)
        except StoreError:
            raise
        except Exception as exc:  # a bug in ftsim: this message gets a verdict that says so, the batch goes on
            payload = event_type = timestamp = remember = None
            plans = []
            found = self.severities.stamp([_internal(env, exc)])
        valid = not _has_error(found)
        if valid:
            for book, plan in plans:
                book.apply(tx, plan)
            if remember is not None:
                tx.put(f"seen.{event_type.name}", remember[0], {"digest": remember[1]},
                       user_id=_text(payload, "user_id"))
        duplicate = bool(found) and any(v.rule in RETRY_RULES for v in found)
        return self._record(tx, env, event_type, payload, timestamp, capped(found), valid, duplicate)

    def _record(self, tx, env, event_type, payload, timestamp, found, valid, duplicate) -> Verdict:
        latency = (env.received_at - timestamp).total_seconds() * 1000 if timestamp else None
        ref = event_type.ref if event_type is not None else None
        keys = None
        if payload is not None and event_type is not None and event_type.keys:
            keys = {k: v for k in event_type.keys if k != ref and (v := _text(payload, k)) is not None} or None
        record = MessageRecord(env.channel, env.received_at, env.marker, env.raw, env.source,
                               event_type.name if event_type else None, _text(payload, ref) if ref else None,
                               _text(payload, "user_id"), keys, valid, duplicate, found, latency,
                               env.delivery_key)
        return Verdict(tx.add_message(record), valid, found, duplicate, record.event)

    def stateless(self, env: Envelope):
        """Everything that needs no history, no store and no lock: (payload, type, timestamp, violations
        with severities, Facts or None when the books are not to be asked). The same for a message whenever
        and wherever it is called: receipt time is the envelope's."""
        found: list[Violation] = []
        payload, problems, written = parse_canonical(env.raw)
        if env.type_name is not None:
            event_type = self.registry.types[env.type_name]
        else:
            event_type = self.registry.for_marker(env.marker, payload)
        if event_type is None:
            found.append(self._no_type(env))
        found += problems
        timestamp = facts = None
        if payload is not None and event_type is not None:
            found += self.validators[event_type.name].violations(payload)
            timestamp = parse_rfc3339(payload.get("timestamp"))
            facts = Facts(payload, event_type, env.received_at, timestamp, self.latency_budget,
                          self.amount_tolerance, self.profile, written)
            found += rules.check(facts)
        return payload, event_type, timestamp, self.severities.stamp(found), facts

    def _no_type(self, env: Envelope) -> Violation:
        if env.marker is None:
            got = "no type marker"
            if env.header_marker is not None:
                got += f" (a header type = {env.header_marker!r} came, but the marker is the property)"
        else:
            got = f"type {env.marker!r}"
            near = self.registry.marker_like(env.marker)
            if near is not None:
                got += f"; did you mean {near!r}? (markers are case-sensitive)"
        return Violation("transport.type", "", f"{env.channel}: expected the type marker {self.markers} "
                                               f"({_MARKER_WHERE.get(env.channel, 'type')}), got {got}")

    def _stateless_or_error(self, env: Envelope):
        try:
            return self.stateless(env)
        except Exception as exc:  # raised again where _judge_one turns it into this message's verdict
            return _Failed(exc)

    def stateless_portable(self, env: Envelope):
        """What `stateless` found, for another process's intake to judge the rest (`restore`): the type by
        name, the Facts left to be rebuilt there (with the canonical bytes, which that process would
        otherwise write again)."""
        pre = self._stateless_or_error(env)
        if isinstance(pre, _Failed):
            return pre
        payload, event_type, timestamp, found, facts = pre
        return (payload, event_type.name if event_type is not None else None, timestamp, found,
                facts is not None, facts.canonical if facts is not None else None)

    def restore(self, env: Envelope, portable):
        if isinstance(portable, _Failed):
            return portable
        payload, name, timestamp, found, has_facts, written = portable
        event_type = self.registry.types[name] if name is not None else None
        facts = Facts(payload, event_type, env.received_at, timestamp, self.latency_budget, self.amount_tolerance,
                      self.profile, written) if has_facts else None
        return payload, event_type, timestamp, found, facts

    def _examine(self, tx, env: Envelope, pre=None):
        """Everything that judges and nothing that writes, so a bug here leaves the transaction untouched:
        (payload, type, timestamp, violations, [(book, plan)] to apply, (identity, digest) to remember).
        pre: what `stateless` found for env, if it was judged before."""
        if pre is None:
            pre = self.stateless(env)
        elif isinstance(pre, _Failed):
            raise pre.exc
        payload, event_type, timestamp, found, facts = pre
        found = list(found)
        remember = None
        plans: list = []
        # An event that is already an error never reaches its book: it changes no state.
        if facts is not None and not _has_error(found):
            book = event_type.book
            seen = self._seen_before(tx, event_type, facts)
            if seen is not None:
                found += self.severities.stamp(seen[0])
                remember, book = seen[1], (None if seen[0] else book)
            for judge in ((book,) if book is not None else ()) + self.shared:
                more, plan = judge.judge(tx, facts)
                if more:
                    found += self.severities.stamp(more)
                if plan is not None:
                    plans.append((judge, plan))
        return payload, event_type, timestamp, found, plans, remember

    @staticmethod
    def _seen_before(tx, event_type, facts: Facts) -> tuple[list[Violation], tuple | None] | None:
        """Retries and conflicting duplicates by the type's identity: (violations, what to remember)."""
        if event_type.identity is None:
            return None
        key = event_type.identity(facts.payload)
        if key is None:
            return None
        signed = digest(facts.payload, facts.canonical)
        prior = tx.get(f"seen.{event_type.name}", key)
        if prior is None:
            return [], (key, signed)
        where = f"/{event_type.ref}" if event_type.ref else ""
        if prior["digest"] == signed:
            return [Violation("activity.retry", where, f"{event_type.marker} {key} was received before with the "
                                                       f"same payload; a retry, counted once")], None
        return [Violation("activity.duplicate", where, f"{event_type.marker} {key} was already received with a "
                                                       f"different payload; expected a unique id per event (or "
                                                       f"the same payload for a retry)")], None


class _Failed:
    """Intake.stateless raised for a message: kept until its turn, when it becomes ftsim.internal."""
    __slots__ = ("exc",)

    def __init__(self, exc: Exception):
        self.exc = exc


def _internal(env: Envelope, exc: Exception) -> Violation:
    """The verdict for a message ftsim failed to judge: the sender learns it is ftsim's bug, the log has why."""
    incident = secrets.token_hex(4)
    log.error("intake: could not judge a %s message (%s), incident %s", env.channel, env.source or "no source",
              incident, exc_info=exc)
    return Violation("ftsim.internal", "", f"ftsim could not judge this message: a bug in ftsim, not "
                                           f"necessarily in the message ({type(exc).__name__}, incident "
                                           f"{incident} in ftsim's log); please report it")


def _switched_off(book, severities: Severities) -> bool:
    """A book that declares `reports_only` (the rules it can report; it changes no state) and whose rules
    are all off would judge for nothing."""
    rules_of = getattr(book, "reports_only", None)
    return bool(rules_of) and all(severities.of(r) == "off" for r in rules_of)


def _has_error(found: list[Violation]) -> bool:
    for v in found:  # a loop, not any() over a generator: twice a message, most of them with nothing found
        if v.severity == "error":
            return True
    return False


_MARKER_WHERE = {"rabbit": "AMQP message property 'type'; headers are ignored",
                 "kafka": "Kafka message header 'type'", "rest": "taken from the REST path"}
