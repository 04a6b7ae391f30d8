"""The broker side of a committed batch: DLQ and retry copies, then one ack.

Rejected messages are copied to the DLQ and retried ones to the retry path, both with
confirms; then everything settled is acked with one `multiple` ack. A copy that fails
leaves its message to be requeued, so nothing is acked that was not kept somewhere."""

import asyncio
import contextlib
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import aio_pika
import structlog
from aio_pika.abc import AbstractExchange

from workers import topology
from workers.runtime import metrics
from workers.runtime.batch import BatchEntry, Fate
from workers.runtime.delivered import (
    ATTEMPT_HEADER,
    DETAIL_HEADER,
    DOMAIN_HEADER,
    EVENT_ID_HEADER,
    LAST_REASON_HEADER,
    REASON_HEADER,
    REJECTED_AT_HEADER,
    ROUTING_KEY_HEADER,
    SOURCE_HEADER,
    TYPE_HEADER,
    Delivered,
)

log = structlog.get_logger()


class Acknowledger:
    def __init__(self, dlx: AbstractExchange, retry: AbstractExchange,
                 retry_delays_s: Sequence[int]) -> None:
        self.dlx, self.retry, self.retry_delays_s = dlx, retry, retry_delays_s

    async def copy_on(self, domain: str, entries: Sequence[BatchEntry]) -> None:
        """Copy rejected messages to the DLQ and retried ones to the retry path, with
        confirms; a copy that fails leaves its message to be requeued."""
        copies = [self._dead_letter(domain, x) if x.fate is Fate.REJECT
                  else self._send_to_retry(domain, x)
                  for x in entries if x.fate in (Fate.REJECT, Fate.RETRY)]
        if copies:
            await asyncio.gather(*copies)

    async def ack_batch(self, domain: str, entries: Sequence[BatchEntry]) -> None:
        """Ack everything settled as one `multiple` ack up to the batch's highest delivery
        tag: batches are acked in delivery order and every earlier message was settled
        (acked, or explicitly requeued when its copy failed), so nothing unsettled is
        covered."""
        to_ack = []
        for x in entries:
            if x.fate is Fate.REQUEUE or not x.copied:
                with contextlib.suppress(Exception):  # channel gone: redelivered anyway
                    await x.handle.nack(requeue=True)
            else:
                to_ack.append(x)
        try:
            await self._ack(to_ack)
        except Exception as exc:  # channel gone: the broker redelivers, the inbox dedupes
            log.info("ack_failed", error=repr(exc)[:200])
            return
        metrics.count_messages(domain, (
            (x.identity()[2] or "unknown", "duplicate" if x.duplicate else x.fate.value)
            for x in to_ack))

    @staticmethod
    async def requeue(entries: Sequence[BatchEntry]) -> None:
        for x in entries:
            with contextlib.suppress(Exception):
                await x.handle.nack(requeue=True)

    @staticmethod
    async def _ack(entries: Sequence[BatchEntry]) -> None:
        if not entries:
            return
        messages: list[Delivered] = [x.handle for x in entries]
        channel = messages[0].channel
        if all(m.channel is channel for m in messages):
            last = max(messages, key=lambda m: m.delivery_tag or 0)
            await last.ack(multiple=True)
        else:  # a reconnect happened mid-batch: acks on the dead channel just fail
            for m in messages:
                with contextlib.suppress(Exception):
                    await m.ack()

    @staticmethod
    def _copy(x: BatchEntry, extra: dict[str, Any]) -> aio_pika.Message:
        m: Delivered = x.handle
        headers = {k: v for k, v in (m.headers or {}).items() if not k.startswith("x-death")}
        headers.update(extra)
        headers[ROUTING_KEY_HEADER] = x.routing_key
        return aio_pika.Message(
            x.body, headers=headers, content_type=m.content_type,
            content_encoding=m.content_encoding, delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            message_id=m.message_id, type=m.type, app_id=m.app_id, timestamp=m.timestamp,
            correlation_id=m.correlation_id, priority=m.priority, reply_to=m.reply_to)
        # Not copied: an expiration would let the broker drop the copy unseen, and a
        # user_id the broker refuses unless it is this connection's user.

    async def _dead_letter(self, domain: str, x: BatchEntry) -> None:
        event_id, source, event_type = x.identity()
        message = self._copy(x, {
            REASON_HEADER: x.reason, DETAIL_HEADER: x.detail[:500],
            DOMAIN_HEADER: domain, ATTEMPT_HEADER: x.attempt,
            REJECTED_AT_HEADER: datetime.now(UTC).isoformat(),
            EVENT_ID_HEADER: event_id or "", SOURCE_HEADER: source or "",
            TYPE_HEADER: event_type or ""})
        try:
            await self.dlx.publish(message, routing_key=domain)
            metrics.DEAD_LETTERS.labels(domain, x.reason).inc()
            log.warning("message_dead_lettered", event_id=event_id, type=event_type,
                        reason=x.reason, detail=x.detail[:300], attempt=x.attempt)
        except Exception as exc:
            x.copied = False
            log.error("dead_letter_failed", event_id=event_id, error=repr(exc)[:200])

    async def _send_to_retry(self, domain: str, x: BatchEntry) -> None:
        delays = self.retry_delays_s
        delay_s = delays[min(x.attempt, len(delays) - 1)]
        message = self._copy(x, {ATTEMPT_HEADER: x.attempt + 1, LAST_REASON_HEADER: x.reason})
        try:
            await self.retry.publish(message, routing_key=topology.retry_key(domain, delay_s))
            metrics.RETRIES.labels(domain, x.reason).inc()
            log.info("message_retry_scheduled", event_id=x.identity()[0], reason=x.reason,
                     attempt=x.attempt + 1, delay_s=delay_s)
        except Exception as exc:
            x.copied = False
            log.error("retry_publish_failed", error=repr(exc)[:200])
