"""What an operator runs by hand (``shopgraph events ...``): follow a topic, replay part of an
outbox, and see how far the relays and consumers are behind."""

from collections.abc import AsyncGenerator
from dataclasses import dataclass
from datetime import datetime, timedelta

from aiokafka import ConsumerRecord, TopicPartition
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from events import kafka
from events.relay import publish, publishable
from events.settings import EventSettings
from events.store import EventStore
from resolvers.db import utcnow

# An operator's command reports an unreachable broker instead of waiting for it.
ATTEMPTS = 3


async def follow(
    settings: EventSettings, topic: str, *, from_beginning: bool = False
) -> AsyncGenerator[ConsumerRecord[bytes, bytes], None]:
    """Every message of ``topic`` as it arrives (all partitions, no consumer group, so tailing
    moves no one's offsets)."""
    consumer = await kafka.started(
        lambda: kafka.consumer(settings, group=None, client_id="shopgraph-tail"), settings, attempts=ATTEMPTS
    )
    try:
        await consumer.topics()  # loads every topic's partitions
        partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        if not partitions:
            raise LookupError(f"no topic {topic!r} on {settings.bootstrap_servers}")
        consumer.assign(partitions)
        if from_beginning:
            await consumer.seek_to_beginning(*partitions)
        else:
            await consumer.seek_to_end(*partitions)
        async for message in consumer:
            yield message
    finally:
        await consumer.stop()


async def replay(store: EventStore, engine: AsyncEngine, settings: EventSettings, first: int, last: int) -> int:
    """Publishes the outbox rows with ``first <= seq <= last`` again, in order, sent or not.
    Consumers that already handled them ignore them; a new consumer group or a repaired
    topic gets them. Returns how many Kafka acknowledged. Rows the relay has not sent yet are
    best left to it: replayed, they may overtake an earlier event of their aggregate."""
    outbox = store.outbox
    async with engine.connect() as connection:
        rows = (await connection.execute(publishable(outbox).where(outbox.c.seq.between(first, last)))).all()
    producer = await kafka.started(
        lambda: kafka.producer(settings, client_id="shopgraph-replay"), settings, attempts=ATTEMPTS
    )
    try:
        delivery = await publish(producer, rows, within=2 * settings.request_timeout_ms / 1000)
    finally:
        await producer.stop()
    problem = delivery.retry or next(iter(delivery.refused.values()), None)
    if problem is not None:
        raise problem
    return len(delivery.sent)


@dataclass(frozen=True, slots=True)
class Backlog:
    """Events committed but not yet acknowledged by Kafka."""

    unsent: int
    oldest: datetime | None
    last_seq: int | None

    @property
    def age(self) -> timedelta:
        return utcnow() - self.oldest if self.oldest else timedelta(0)


async def outbox_backlog(store: EventStore, engine: AsyncEngine) -> Backlog:
    outbox = store.outbox
    async with engine.connect() as connection:
        unsent, oldest = (
            await connection.execute(
                select(func.count(), func.min(outbox.c.created_at)).where(outbox.c.sent_at.is_(None))
            )
        ).one()
        last_seq = await connection.scalar(select(func.max(outbox.c.seq)))
    return Backlog(unsent=unsent, oldest=oldest, last_seq=last_seq)


async def consumer_lag(settings: EventSettings, group: str, topics: list[str]) -> dict[str, int]:
    """Per topic, how many messages the group has not committed past yet."""
    consumer = await kafka.started(
        lambda: kafka.consumer(settings, group=group, client_id="shopgraph-lag"), settings, attempts=ATTEMPTS
    )
    try:
        await consumer.topics()  # loads every topic's partitions
        partitions = [
            TopicPartition(topic, p) for topic in topics for p in sorted(consumer.partitions_for_topic(topic) or ())
        ]
        ends = await consumer.end_offsets(partitions)
        lag = dict.fromkeys(topics, 0)
        for partition in partitions:
            committed = await consumer.committed(partition) or 0
            lag[partition.topic] += max(0, ends[partition] - committed)
        return lag
    finally:
        await consumer.stop()
