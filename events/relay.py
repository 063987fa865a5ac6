"""The relay: publishes a subgraph's outbox to Kafka, oldest first, and marks what Kafka
acknowledged as sent. It runs beside the subgraph (``shopgraph worker``), so a mutation only
ever writes a row; Kafka being slow or down delays events and never fails a request.

Delivery is at least once. A relay killed between Kafka's acknowledgement and its own commit
publishes that batch again when it restarts; consumers recognise the repeats by event id.

Order: Kafka keeps one partition's messages in order and the message key (the aggregate id)
picks the partition, so events of one aggregate arrive in the order the relay sends them,
which is outbox order. On PostgreSQL several relays may share one outbox: each locks the rows
it publishes (``FOR UPDATE SKIP LOCKED``), and an aggregate with an earlier event locked by
another relay is left to that relay. On SQLite one relay runs per database file.
"""

import asyncio
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

import stamina
import structlog
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError, KafkaTimeoutError
from sqlalchemy import Row, Select, Table, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from events.envelope import CONTENT_TYPE
from events.kafka import Producers
from events.settings import EventSettings
from events.store import EventStore
from resolvers.db import session_factory, utcnow, writer

log = structlog.get_logger(__name__)

PURGE_EVERY_SECONDS = 600.0


class Relay:
    def __init__(self, store: EventStore, engine: AsyncEngine, settings: EventSettings) -> None:
        self.outbox = store.outbox
        self.settings = settings
        self.reader = session_factory(engine)
        self.writer = writer(engine)
        self.shared = engine.dialect.name == "postgresql"
        self.reported: set[int] = set()
        # Kafka answers or fails a batch within its request timeout; past twice that, the
        # producer is stuck and the batch is given up (and sent again by a fresh producer).
        self.patience = 2 * settings.request_timeout_ms / 1000

    async def run(self, producers: Producers) -> None:
        """Relays until cancelled. Any failure (Kafka or the database unreachable) is logged
        and retried with exponential backoff and jitter; nothing is lost meanwhile. After
        Kafka failed a batch, the next one goes through a fresh producer."""
        purged_at = -math.inf
        while True:
            async for attempt in stamina.retry_context(
                on=Exception, attempts=None, timeout=None, wait_max=self.settings.retry_max_seconds
            ):
                with attempt:
                    try:
                        published = await self.relay_once(await producers.get())
                    except KafkaError:
                        await producers.discard()
                        raise
                    if time.monotonic() - purged_at > PURGE_EVERY_SECONDS:
                        await self.purge()
                        purged_at = time.monotonic()
            if published < self.settings.relay_batch_size:
                await asyncio.sleep(self.settings.relay_idle_poll_seconds)

    async def relay_once(self, producer: AIOKafkaProducer) -> int:
        """Publishes one batch; returns how many events were published. Raises when Kafka could
        not take some for now (the acknowledged ones are marked sent first, the rest wait for
        the back-off); an event Kafka refuses outright is logged once and holds its aggregate."""
        if self.shared:
            # The row locks must last until the batch is marked sent: one transaction.
            async with self.writer.begin() as session:
                batch = await self._claim(session)
                delivery = await publish(producer, batch, within=self.patience)
                await self._mark_sent(session, delivery.sent)
        else:
            # SQLite: reading in a transaction of its own keeps the write lock free while
            # Kafka answers, so mutations never wait for the broker.
            async with self.reader.begin() as session:
                batch = await self._claim(session)
            delivery = await publish(producer, batch, within=self.patience)
            if delivery.sent:
                async with self.writer.begin() as session:
                    await self._mark_sent(session, delivery.sent)
        for seq, error in delivery.refused.items():
            if seq not in self.reported:
                # Its aggregate's later events wait behind it; `events lag` shows the age.
                log.error("kafka refuses an event; its aggregate's events wait", seq=seq, error=repr(error))
                self.reported.add(seq)
        if delivery.retry is not None:
            raise delivery.retry
        return len(delivery.sent)

    async def _claim(self, session: AsyncSession) -> Sequence[Row[tuple[int, str, str, str]]]:
        o = self.outbox
        oldest = publishable(o).where(o.c.sent_at.is_(None)).limit(self.settings.relay_batch_size)
        if not self.shared:
            return (await session.execute(oldest)).all()
        rows = (await session.execute(oldest.with_for_update(skip_locked=True))).all()
        if not rows:
            return rows
        mine = [row.seq for row in rows]
        # Rows another relay has locked were skipped above but are visible here. Where one of
        # them comes before ours in the same aggregate, ours must wait for it.
        held = dict(
            (
                await session.execute(
                    select(o.c.partition_key, func.min(o.c.seq))
                    .where(
                        o.c.sent_at.is_(None),
                        o.c.seq < mine[-1],
                        o.c.seq.not_in(mine),
                        o.c.partition_key.in_({row.partition_key for row in rows}),
                    )
                    .group_by(o.c.partition_key)
                )
            )
            .tuples()
            .all()
        )
        return [row for row in rows if row.seq < held.get(row.partition_key, math.inf)]

    async def _mark_sent(self, session: AsyncSession, seqs: list[int]) -> None:
        if seqs:
            await session.execute(update(self.outbox).where(self.outbox.c.seq.in_(seqs)).values(sent_at=utcnow()))

    async def purge(self) -> None:
        """Drops sent events older than the retention; unsent ones stay whatever their age."""
        cutoff = utcnow() - timedelta(days=self.settings.retention_days)
        async with self.writer.begin() as session:
            await session.execute(delete(self.outbox).where(self.outbox.c.sent_at < cutoff))


def publishable(outbox: Table) -> Select[tuple[int, str, str, str]]:
    """What publishing outbox rows takes, oldest first."""
    return select(outbox.c.seq, outbox.c.topic, outbox.c.partition_key, outbox.c.payload).order_by(outbox.c.seq)


@dataclass(frozen=True, slots=True)
class Delivery:
    """What became of a batch: ``sent`` may be marked sent; ``retry`` is why the rest was not
    (Kafka unreachable or busy: back off and resend); ``refused`` are the events Kafka will not
    take as they are, however often they are sent (too large, say)."""

    sent: list[int]
    retry: Exception | None
    refused: dict[int, Exception]


async def publish(
    producer: AIOKafkaProducer, rows: Sequence[Row[tuple[int, str, str, str]]], *, within: float
) -> Delivery:
    """Sends ``rows`` (in ``seq`` order) and waits for Kafka's acknowledgements, ``within``
    seconds at most (then none is marked sent). Once one of an aggregate's events is not
    acknowledged, its later ones are not marked sent either, so they are sent again after it.
    Keeping them in order when Kafka acknowledged a later one anyway is the idempotent
    producer's part (see ``EventSettings.idempotent_producer``)."""
    try:
        async with asyncio.timeout(within):
            return await _publish(producer, rows)
    except TimeoutError:
        error = KafkaTimeoutError(f"no acknowledgement within {within:.0f}s")
        log.warning("kafka did not take events", sent=0, unsent=len(rows), error=repr(error))
        return Delivery([], error, {})


async def _publish(producer: AIOKafkaProducer, rows: Sequence[Row[tuple[int, str, str, str]]]) -> Delivery:
    pending = []
    # Per aggregate, its first event not delivered: nothing after it is sent or marked.
    held: dict[str, int] = {}
    refused: dict[int, Exception] = {}
    retry: Exception | None = None
    for row in rows:
        if row.partition_key in held:
            continue
        try:
            delivery = await producer.send(
                row.topic,
                row.payload.encode(),
                key=row.partition_key.encode(),
                headers=[("content-type", CONTENT_TYPE.encode())],
            )
        except KafkaError as exc:
            if not _refuses_the_message(exc):
                retry = exc  # no metadata or a full buffer: later sends would fail the same way
                break
            refused[row.seq] = exc
            held[row.partition_key] = row.seq
            continue
        pending.append((row, delivery))
    results = await asyncio.gather(*(delivery for _, delivery in pending), return_exceptions=True)
    sent = []
    for (row, _), result in zip(pending, results, strict=True):
        if isinstance(result, BaseException):
            if not isinstance(result, Exception):
                raise result  # cancelled: nothing is marked, the next relay resends
            held[row.partition_key] = min(row.seq, held.get(row.partition_key, row.seq))
            if _refuses_the_message(result):
                refused[row.seq] = result
            else:
                retry = retry or result
        elif row.seq < held.get(row.partition_key, math.inf):
            sent.append(row.seq)
    if retry is not None:
        log.warning("kafka did not take events", sent=len(sent), unsent=len(rows) - len(sent), error=repr(retry))
    return Delivery(sent, retry, refused)


def _refuses_the_message(error: Exception) -> bool:
    """Kafka refuses this message for what it is: sending it again cannot help."""
    return isinstance(error, KafkaError) and not error.retriable and not isinstance(error, KafkaTimeoutError)
