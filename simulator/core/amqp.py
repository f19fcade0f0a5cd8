"""The one queue declaration ftsim's RabbitMQ listener and its clients agree on."""
from __future__ import annotations

from pika.exceptions import ChannelClosedByBroker


def declare(conn, ch, queue: str):
    """Declare the queue durable; one declared before with other arguments is used as it is (the channel
    the broker closed over it is replaced). Returns the channel to go on with."""
    try:
        ch.queue_declare(queue, durable=True)
        return ch
    except ChannelClosedByBroker as exc:
        if exc.reply_code != 406:  # PRECONDITION_FAILED: exists with other arguments
            raise
    ch = conn.channel()
    ch.queue_declare(queue, passive=True)
    return ch
