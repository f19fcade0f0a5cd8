"""RabbitMQ: publish with the AMQP message property `type` (not a header: the spec says headers are ignored).

By default each publish waits for the broker's confirm, so a message the broker did not take is counted
and retried rather than lost; `confirm=False` trades that for speed. The queue is declared durable (as
ftsim's listener declares it) when publishing through the default exchange, so a message sent before the
consumer's first start is kept, not dropped as unroutable. A lost connection is reopened with backoff.
A first connection that fails (refused login, unknown virtual host, nothing listening) is a ValueError
naming the URL without its password, as KafkaChannel's is: the command turns it into a one-line message.
"""
from __future__ import annotations

import logging
import time
import urllib.parse

import pika
from pika.exceptions import (AMQPConnectionError, AMQPError, AuthenticationError, NackError,
                             ProbableAccessDeniedError, ProbableAuthenticationError, UnroutableError)

from simulator.core.amqp import declare

from simulator.clients.sender.base import Channel, Observer, Outgoing, Stats
from simulator.clients.sender.rest import Backoff


class RabbitChannel(Channel):
    name = "rabbit"
    OPTIONS = ("queue", "exchange", "confirm", "max_attempts", "observe")

    def __init__(self, url: str, *, stats: Stats | None = None, queue: str = "ftsim.casino", exchange: str = "",
                 confirm: bool = True, max_attempts: int = 10, backoff: Backoff | None = None,
                 observe: Observer = None):
        if logging.getLogger("pika").level == logging.NOTSET:
            # pika narrates every connect at INFO and logs a failed one at ERROR with a traceback; the channel
            # says it once (the first as a ValueError, later ones in its counts), as ftsim's listener does
            logging.getLogger("pika").setLevel(logging.CRITICAL)
        self.params = pika.URLParameters(url)
        self.queue, self.exchange, self.confirm = queue, exchange, confirm
        self.stats = stats or Stats()
        self.max_attempts = max(1, max_attempts)
        self.backoff = backoff or Backoff(base=0.2, cap=5.0)
        self.observe = observe
        self._conn = self._ch = None
        try:
            self._open()
        except (AMQPError, OSError) as exc:  # OSError: a host name that does not resolve
            self._close_quietly()
            raise ValueError(f"rabbit: {connect_problem(without_password(url), exc)}") from None

    def _open(self) -> None:
        self._conn = pika.BlockingConnection(self.params)
        self._ch = self._conn.channel()
        if not self.exchange:
            self._ch = declare(self._conn, self._ch, self.queue)
        if self.confirm:
            self._ch.confirm_delivery()

    def submit(self, item: Outgoing) -> None:
        props = pika.BasicProperties(type=item.marker, content_type="application/json", delivery_mode=2,
                                     headers=item.headers or None)
        error: BaseException | None = None
        started = time.perf_counter()
        for attempt, started in self._attempts():
            try:
                if self._ch is None or self._ch.is_closed:
                    self._open()
                self._ch.basic_publish(self.exchange, self.queue, item.body, props, mandatory=self.confirm)
            except (UnroutableError, NackError) as exc:
                return self._done(item, "rejected", started, exc)
            except AMQPError as exc:
                error = exc
                self._close_quietly()
                time.sleep(self.backoff.delay(attempt))
                continue
            return self._done(item, "delivered", started, None)
        self._done(item, "failed", started, error)


    def _close_quietly(self) -> None:
        try:
            if self._conn is not None and self._conn.is_open:
                self._conn.close()
        except AMQPError:
            pass
        self._conn = self._ch = None

    def close(self) -> None:
        self._close_quietly()


def connect_problem(where: str, exc: BaseException) -> str:
    """Why the first connection to `where` failed, in words a user can act on, with pika's reason."""
    # pika's AMQPConnectionError has no text of its own: the socket error is inside its args
    why = str(exc) or "; ".join(str(getattr(a, "exception", a)) for a in exc.args) or type(exc).__name__
    if isinstance(exc, (ProbableAuthenticationError, AuthenticationError)):
        return f"authentication refused at {where}: {why}"
    if isinstance(exc, ProbableAccessDeniedError):
        return f"access to the virtual host refused at {where}: {why}"
    if isinstance(exc, (AMQPConnectionError, OSError)):
        return f"cannot reach {where}: {why}"
    return f"{where}: {why}"  # connected, but the broker closed the channel (a queue it will not declare)


def without_password(url: str) -> str:
    """The URL as a message may show it: a password in it replaced by ***."""
    parts = urllib.parse.urlsplit(url)
    userinfo, at, host = parts.netloc.rpartition("@")
    if not at or ":" not in userinfo:
        return url
    return urllib.parse.urlunsplit(parts._replace(netloc=f"{userinfo.partition(':')[0]}:***@{host}"))
