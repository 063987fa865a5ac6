"""The live feed: what a subgraph process reads from Kafka for the subscriptions it serves.

One reader per process, whatever the number of subscribers. It joins no consumer group and
commits nothing: it is assigned every partition of its topics and starts at their end, so every
instance of a subgraph sees every event and any instance can serve any subscriber.

A position is where the reader stands: for each partition, the offset of the last event it
handled. Each event it hands on carries the reader's position just after it, which is what a
subscriber's cursor records; resuming replays each partition from there (``replay``), by a
reader of its own, so one client catching up on a week never holds back the live stream.
Kafka keeps one aggregate's events in one partition and in order, so a replay merged by time
across partitions keeps every aggregate's order.
"""

import asyncio
import heapq
from collections.abc import AsyncGenerator, Callable, Mapping, Sequence
from contextlib import aclosing
from dataclasses import dataclass

import stamina
import structlog
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaError, OffsetOutOfRangeError

from events import kafka
from events.envelope import Event, InvalidEvent, decode
from events.settings import EventSettings

log = structlog.get_logger(__name__)

Position = Mapping[TopicPartition, int]
"""The offset of the last event handled in each partition; -1 before its first."""

# How much one fetch of a replay takes from Kafka, per partition.
REPLAY_CHUNK = 500


@dataclass(frozen=True, slots=True)
class Item:
    """One event from the feed, with where it sits: ``position`` is the reader's position just
    after it (one dict shared by every subscriber it goes to)."""

    event: Event
    partition: TopicPartition
    offset: int
    position: Position


class OutOfRange(LookupError):
    """A position the broker cannot replay from: older than what it keeps, or newer than what it has."""


class Feed:
    """Reads ``topics`` from their end and hands each event to ``dispatch``, in each partition's
    order. ``run`` reads until cancelled, waiting out an unreachable broker; events published
    meanwhile arrive, in order, once it answers again."""

    def __init__(
        self, settings: EventSettings, topics: Sequence[str], *, client_id: str, dispatch: Callable[[Item], None]
    ) -> None:
        self.settings = settings
        self.topics = tuple(sorted(topics))
        self.client_id = client_id
        self.dispatch = dispatch
        self.position: dict[TopicPartition, int] = {}
        self.ready = asyncio.Event()

    @property
    def partitions(self) -> list[TopicPartition]:
        return sorted(self.position)

    async def run(self) -> None:
        await kafka.wait_for_topics(self.settings, self.topics)
        async for attempt in stamina.retry_context(
            on=KafkaError, attempts=None, timeout=None, wait_max=self.settings.retry_max_seconds
        ):
            with attempt:
                consumer = await kafka.started(self._consumer, self.settings)
                try:
                    await self._read(consumer)
                finally:
                    await consumer.stop()

    async def _read(self, consumer: AIOKafkaConsumer) -> None:
        partitions = await _partitions(consumer, self.topics)
        consumer.assign(partitions)
        if not self.position:
            ends = await consumer.end_offsets(partitions)
            self.position.update({partition: ends[partition] - 1 for partition in partitions})
        for partition in partitions:
            # One added to a topic while this process ran: everything in it is new.
            self.position.setdefault(partition, -1)
            consumer.seek(partition, self.position[partition] + 1)
        self.ready.set()
        log.info("live feed reading", topics=self.topics, partitions=len(partitions))
        while True:
            batches = await consumer.getmany(timeout_ms=1000, max_records=self.settings.consumer_batch_size)
            for partition, records in batches.items():
                for record in records:
                    self.position[partition] = record.offset
                    event = _decoded(record)
                    if event is not None:
                        self.dispatch(Item(event, partition, record.offset, dict(self.position)))

    def _consumer(self) -> AIOKafkaConsumer:
        return kafka.consumer(self.settings, group=None, client_id=f"{self.client_id}-live")

    def _replayer(self) -> AIOKafkaConsumer:
        # An offset the broker no longer has must fail the replay, not skip to the oldest.
        return kafka.consumer(self.settings, group=None, client_id=f"{self.client_id}-replay", reset="none")

    async def replay(self, after: Position, until: Position) -> AsyncGenerator[Item]:
        """The events after ``after`` up to ``until`` (both positions over the same partitions),
        merged across partitions by the time Kafka took them (``check`` says whether the broker
        still has them)."""
        wanted = {p: (after[p] + 1, until[p]) for p in after if after[p] < until[p]}
        if not wanted:
            return
        consumer = await kafka.started(self._replayer, self.settings)
        try:
            consumer.assign(list(wanted))
            for partition, (first, _last) in wanted.items():
                consumer.seek(partition, first)
            position = dict(after)
            merged = _merged(consumer, {p: last for p, (_first, last) in wanted.items()})
            async with aclosing(merged):
                async for partition, record in merged:
                    position[partition] = record.offset
                    event = _decoded(record)
                    if event is not None:
                        yield Item(event, partition, record.offset, dict(position))
        except OffsetOutOfRangeError as exc:
            raise OutOfRange("older than the events still kept") from exc
        finally:
            await consumer.stop()

    async def check(self, after: Position) -> None:
        """Raises ``OutOfRange`` when the broker cannot replay from ``after``: older than it
        keeps, or newer than its newest event, which is the later of its word and what this
        process has read (the local broker reports a partition's end short when its last
        batch holds several events)."""
        consumer = await kafka.started(self._replayer, self.settings, attempts=3)
        try:
            partitions = list(after)
            oldest = await consumer.beginning_offsets(partitions)
            ends = await consumer.end_offsets(partitions)
        finally:
            await consumer.stop()
        for partition, offset in after.items():
            if offset + 1 < oldest[partition]:
                raise OutOfRange("older than the events still kept")
            if offset > max(ends[partition] - 1, self.position.get(partition, -1)):
                raise OutOfRange("newer than any event (from another installation?)")


async def _partitions(consumer: AIOKafkaConsumer, topics: Sequence[str]) -> list[TopicPartition]:
    await consumer.topics()  # fetches the cluster's metadata
    found: list[TopicPartition] = []
    for topic in topics:
        numbers = consumer.partitions_for_topic(topic)
        if not numbers:
            raise KafkaError(f"no partitions known for {topic}")
        found.extend(TopicPartition(topic, number) for number in sorted(numbers))
    return found


async def _merged(
    consumer: AIOKafkaConsumer, last: dict[TopicPartition, int]
) -> AsyncGenerator[tuple[TopicPartition, ConsumerRecord[bytes, bytes]]]:
    """Each partition's records up to its ``last`` offset, merged by timestamp: a partition is
    fetched whenever the merge has nothing of it left and it is not finished, so the head of
    every unfinished partition is known before the earliest is handed on."""
    buffered: dict[TopicPartition, list[ConsumerRecord[bytes, bytes]]] = {p: [] for p in last}
    heads: list[tuple[int, int, TopicPartition]] = []
    unfinished = set(last)
    order = {partition: index for index, partition in enumerate(sorted(last))}

    async def refill(partition: TopicPartition) -> None:
        while not buffered[partition]:
            fetched = await consumer.getmany(partition, timeout_ms=1000, max_records=REPLAY_CHUNK)
            records = [r for r in fetched.get(partition, []) if r.offset <= last[partition]]
            buffered[partition] = records[::-1]  # popped from the end
            if records and records[-1].offset >= last[partition]:
                unfinished.discard(partition)
                return

    for partition in last:
        await refill(partition)
        heapq.heappush(heads, (buffered[partition][-1].timestamp, order[partition], partition))
    while heads:
        _time, _order, partition = heapq.heappop(heads)
        record = buffered[partition].pop()
        yield partition, record
        if not buffered[partition] and partition in unfinished:
            await refill(partition)
        if buffered[partition]:
            heapq.heappush(heads, (buffered[partition][-1].timestamp, order[partition], partition))


def _decoded(record: ConsumerRecord[bytes, bytes]) -> Event | None:
    try:
        return decode(record.value)
    except InvalidEvent:
        # The consumers dead-letter it (with the reason, which may quote the payload: not
        # logged here); subscribers never see what breaks its contract.
        log.warning("live feed skips an invalid event", topic=record.topic, offset=record.offset)
        return None
