"""The consumer runner: one consumer group per subgraph, one handler per topic.

Kafka delivers at least once, so every event is handled in one database transaction that
also records its id in the subgraph's inbox; a redelivered event finds its id there and has no
second effect. Offsets are committed only after the events before them were handled.

What goes wrong is sorted three ways:
- an event that breaks its contract, or whose handler raises ``PoisonEvent``, goes to the
  dead-letter topic at once: retrying cannot help;
- a handler that fails otherwise is retried with backoff, and after
  ``handler_attempts`` failures the event goes to the dead-letter topic with the last error;
- the database or Kafka unreachable is not the event's fault: the runner rewinds to the
  event, backs off and tries again for as long as it takes, dead-lettering nothing.
The dead-letter message keeps the original key and value and says why in its headers.
"""

import asyncio
import math
import time
from collections.abc import Awaitable, Callable, Mapping
from contextlib import suppress
from datetime import timedelta

import stamina
import structlog
from aiokafka import AIOKafkaConsumer, ConsumerRecord
from aiokafka.errors import IllegalStateError, KafkaError
from sqlalchemy import delete
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from events.envelope import Event, InvalidEvent, decode
from events.kafka import Producers
from events.settings import EventSettings, dead_letter_topic
from events.store import EventStore
from resolvers.db import utcnow, writer

log = structlog.get_logger(__name__)

Handler = Callable[[Event, AsyncSession], Awaitable[None]]

PURGE_EVERY_SECONDS = 600.0


class PoisonEvent(Exception):
    """Raised by a handler for an event it will never be able to handle."""


class ConsumerRunner:
    def __init__(
        self, store: EventStore, engine: AsyncEngine, settings: EventSettings, handlers: Mapping[str, Handler]
    ) -> None:
        self.store = store
        self.settings = settings
        self.handlers = handlers
        self.writer = writer(engine)
        self.group = store.consumer
        self.dead_letters = dead_letter_topic(store.consumer)

    @property
    def topics(self) -> list[str]:
        return list(self.handlers)

    async def run(self, consumer: AIOKafkaConsumer, producers: Producers) -> None:
        """Consumes until cancelled; ``consumer`` is started and subscribed to ``topics``, and
        ``producers`` writes the dead letters."""
        purged_at = -math.inf
        while True:
            async for attempt in stamina.retry_context(
                on=_unreachable, attempts=None, timeout=None, wait_max=self.settings.retry_max_seconds
            ):
                with attempt:
                    await self.consume_once(consumer, producers)
                    if time.monotonic() - purged_at > PURGE_EVERY_SECONDS:
                        await self.purge()
                        purged_at = time.monotonic()

    async def consume_once(self, consumer: AIOKafkaConsumer, producers: Producers) -> None:
        """Handles one fetched batch, committing each partition's offset after its events."""
        batches = await consumer.getmany(timeout_ms=1000)
        unhandled = dict(batches)
        try:
            for partition, messages in batches.items():
                for index, message in enumerate(messages):
                    await self.handle(message, producers)
                    unhandled[partition] = messages[index + 1 :]
                await consumer.commit({partition: messages[-1].offset + 1})
        finally:
            # Fetched but not handled: read again after the back-off, not skipped. A partition
            # a rebalance took away is read from its committed offset by its new owner.
            assigned = consumer.assignment()
            for partition, rest in unhandled.items():
                if rest and partition in assigned:
                    with suppress(IllegalStateError):
                        consumer.seek(partition, rest[0].offset)

    async def handle(self, message: ConsumerRecord[bytes, bytes], producers: Producers) -> None:
        try:
            event = decode(message.value)
            if event.topic != message.topic:
                raise InvalidEvent(f"a {event.type} event on topic {message.topic}")
        except InvalidEvent as exc:
            await self._dead_letter(producers, message, str(exc), attempts=0)
            return
        attempts = 0
        try:
            async for attempt in stamina.retry_context(
                on=_worth_retrying,
                attempts=self.settings.handler_attempts,
                timeout=None,
                wait_initial=self.settings.handler_retry_initial_seconds,
                wait_max=self.settings.retry_max_seconds,
            ):
                with attempt:
                    attempts = attempt.num
                    await self.apply(event, self.handlers[message.topic])
        except Exception as exc:
            if _unreachable(exc):
                raise
            await self._dead_letter(producers, message, f"{type(exc).__name__}: {exc}", attempts=attempts)

    async def apply(self, event: Event, handler: Handler) -> None:
        """Handles one event in one transaction with its inbox row: once in effect."""
        async with self.writer.begin() as session:
            if await self.store.first_sight(session, event):
                await handler(event, session)
            else:
                log.info("event already handled", event_id=event.id, type=event.type)

    async def _dead_letter(
        self, producers: Producers, message: ConsumerRecord[bytes, bytes], reason: str, *, attempts: int
    ) -> None:
        headers = [
            *message.headers,
            ("dead-letter.reason", reason.encode()),
            ("dead-letter.consumer", self.group.encode()),
            ("dead-letter.topic", message.topic.encode()),
            ("dead-letter.partition", str(message.partition).encode()),
            ("dead-letter.offset", str(message.offset).encode()),
            ("dead-letter.attempts", str(attempts).encode()),
        ]
        producer = await producers.get()
        try:
            async with asyncio.timeout(2 * self.settings.request_timeout_ms / 1000):
                await producer.send_and_wait(self.dead_letters, message.value, key=message.key, headers=headers)
        except (KafkaError, TimeoutError):
            await producers.discard()  # and the event is handled again after the back-off
            raise
        log.error(
            "event dead-lettered",
            topic=message.topic,
            partition=message.partition,
            offset=message.offset,
            reason=reason,
            dead_letter_topic=self.dead_letters,
        )

    async def purge(self) -> None:
        """Forgets handled ids older than the retention, long after any redelivery."""
        cutoff = utcnow() - timedelta(days=self.settings.retention_days)
        async with self.writer.begin() as session:
            await session.execute(delete(self.store.inbox).where(self.store.inbox.c.processed_at < cutoff))


def _unreachable(error: Exception) -> bool:
    """The database or Kafka did not answer: nothing to do with the event being handled."""
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True
    return isinstance(error, OperationalError | InterfaceError | KafkaError | OSError)


def _worth_retrying(error: Exception) -> bool:
    return not isinstance(error, PoisonEvent) and not _unreachable(error)
