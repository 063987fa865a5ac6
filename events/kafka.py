"""aiokafka clients configured the one way the relay, the consumers and the tools all need."""

from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from typing import Protocol, TypeVar

import stamina
import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError

from events.settings import EventSettings

log = structlog.get_logger(__name__)

# Kafka's TOPIC_ALREADY_EXISTS: creating topics is idempotent for us.
_TOPIC_EXISTS = 36


def producer(settings: EventSettings, *, client_id: str) -> AIOKafkaProducer:
    """Acknowledged by every in-sync replica: an event the relay marks sent is durable."""
    return AIOKafkaProducer(
        bootstrap_servers=settings.bootstrap_servers,
        client_id=client_id,
        acks="all",
        enable_idempotence=settings.idempotent_producer,
        request_timeout_ms=settings.request_timeout_ms,
        linger_ms=5,
    )


def consumer(
    settings: EventSettings, *topics: str, group: str | None, client_id: str, reset: str = "earliest"
) -> AIOKafkaConsumer:
    """Offsets are committed by hand after the events are handled (at-least-once); a new
    group starts from the oldest event it can still read (``reset``; "none" raises instead)."""
    return AIOKafkaConsumer(
        *topics,
        bootstrap_servers=settings.bootstrap_servers,
        client_id=client_id,
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset=reset,
        fetch_max_wait_ms=settings.consumer_fetch_wait_ms,
        max_poll_records=settings.consumer_batch_size,
        session_timeout_ms=settings.consumer_session_timeout_ms,
        heartbeat_interval_ms=settings.consumer_session_timeout_ms // 4,
    )


class Client(Protocol):
    async def start(self) -> None: ...
    async def stop(self) -> None: ...


C = TypeVar("C", bound=Client)


async def started(make: Callable[[], C], settings: EventSettings, *, attempts: int | None = None) -> C:
    """A started Kafka client, waiting with backoff while the broker is unreachable (for ever,
    unless ``attempts`` says how often to try). A client whose start failed is not reused:
    aiokafka wants a fresh one."""
    async for attempt in stamina.retry_context(
        on=KafkaError, attempts=attempts, timeout=None, wait_max=settings.retry_max_seconds
    ):
        with attempt:
            client = make()
            try:
                await client.start()
            except BaseException:
                await client.stop()
                raise
    return client


class Producers:
    """One producer, started when first needed and replaced after Kafka failed it. aiokafka's
    producer does not always come back when the broker restarts (with the local broker, sends
    after a restart were seen never to complete); a fresh one does."""

    def __init__(self, settings: EventSettings, *, client_id: str) -> None:
        self.settings = settings
        self.client_id = client_id
        self._current: AIOKafkaProducer | None = None

    async def get(self) -> AIOKafkaProducer:
        if self._current is None:
            self._current = await started(lambda: producer(self.settings, client_id=self.client_id), self.settings)
        return self._current

    async def discard(self) -> None:
        """Stops the current producer; the next ``get`` starts a new one."""
        current, self._current = self._current, None
        if current is not None:
            await current.stop()


@asynccontextmanager
async def admin(settings: EventSettings) -> AsyncIterator[AIOKafkaAdminClient]:
    client = AIOKafkaAdminClient(bootstrap_servers=settings.bootstrap_servers, client_id="shopgraph-admin")
    try:
        await client.start()
        yield client
    finally:
        await client.close()


async def create_topics(settings: EventSettings, topics: Iterable[str]) -> list[str]:
    """Creates the topics that do not exist yet; returns the ones it created."""
    wanted = [NewTopic(topic, settings.topic_partitions, settings.replication_factor) for topic in topics]
    async with admin(settings) as client:
        response = await client.create_topics(wanted)
    created = []
    for topic, code, message in response.topic_errors:
        if code == 0:
            created.append(topic)
        elif code != _TOPIC_EXISTS:
            raise RuntimeError(f"could not create topic {topic}: {message} (Kafka error {code})")
    log.info("topics ready", created=created)
    return created


class MissingTopics(LookupError):
    pass


async def wait_for_topics(settings: EventSettings, topics: Iterable[str]) -> None:
    """Returns once every topic exists. A consumer that subscribes before its topics exist may
    not notice them appear until its next full metadata refresh, minutes later."""
    wanted = set(topics)
    async for attempt in stamina.retry_context(
        on=(KafkaError, MissingTopics), attempts=None, timeout=None, wait_max=settings.retry_max_seconds
    ):
        with attempt:
            async with admin(settings) as client:
                missing = wanted - set(await client.list_topics())
            if missing:
                raise MissingTopics(f"waiting for topics: {', '.join(sorted(missing))}")
