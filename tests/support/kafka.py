"""Kafka for tests: a fresh local broker per test, readers that collect what a topic holds,
and the relay and consumers of a subgraph run as tasks in the test's own loop."""

import asyncio
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager, suppress
from pathlib import Path
from typing import TypeVar

from aiokafka import AIOKafkaProducer, ConsumerRecord

from devstack.broker import Broker
from events import kafka
from events.consumer import Handler
from events.operations import follow
from events.settings import EventSettings
from events.worker import run_worker
from shopgraph.registry import event_store, handlers, topics

T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class Switch:
    """A TCP proxy in front of the broker, which tells clients to connect through it: turning
    it off is Kafka going down for its clients (connections cut, new ones refused), and
    turning it on brings Kafka back with everything it held, as a restarted Kafka would. The
    local broker itself forgets everything when it restarts."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = free_port()
        self.server: asyncio.Server | None = None
        self.links: set[asyncio.StreamWriter] = set()

    async def on(self) -> None:
        self.server = await asyncio.start_server(self._link, "127.0.0.1", self.port)

    async def off(self) -> None:
        assert self.server is not None
        self.server.close()
        for writer in list(self.links):
            writer.close()
        await self.server.wait_closed()

    async def _link(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        broker_reader, broker_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        self.links.update((client_writer, broker_writer))

        async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            with suppress(OSError):
                while chunk := await reader.read(65536):
                    writer.write(chunk)
                    await writer.drain()
            writer.close()

        try:
            await asyncio.gather(pipe(client_reader, broker_writer), pipe(broker_reader, client_writer))
        finally:
            self.links.difference_update((client_writer, broker_writer))


@asynccontextmanager
async def switched_broker(log: Path) -> AsyncIterator[tuple[EventSettings, Switch]]:
    """A fresh local broker that clients reach only through a ``Switch``."""
    broker_port = free_port()
    switch = Switch(broker_port)
    await switch.on()
    broker = Broker(broker_port, topics(), log=log, advertised_port=switch.port)
    await broker.start()
    try:
        yield fast_settings(f"127.0.0.1:{switch.port}"), switch
    finally:
        await broker.stop()
        if switch.server is not None and switch.server.is_serving():
            await switch.off()


def fast_settings(bootstrap_servers: str, **overrides: object) -> EventSettings:
    """Short waits: a test sees a retry or a poll in milliseconds, not seconds."""
    values: dict[str, object] = {
        "bootstrap_servers": bootstrap_servers,
        "relay_idle_poll_seconds": 0.02,
        "handler_retry_initial_seconds": 0.01,
        "retry_max_seconds": 0.5,
        "request_timeout_ms": 3000,
        **overrides,
    }
    return EventSettings.model_validate(values)


async def collect(
    settings: EventSettings, topic: str, *, count: int, within: float = 30.0
) -> list[ConsumerRecord[bytes, bytes]]:
    """The first ``count`` messages of ``topic``, read as ``shopgraph events tail`` reads them,
    or fails after ``within`` seconds; waits half a second more to catch any message beyond
    ``count`` (a duplicate, say)."""
    loop = asyncio.get_running_loop()
    limit = loop.time() + within
    messages: list[ConsumerRecord[bytes, bytes]] = []
    stream = follow(settings, topic, from_beginning=True)
    try:
        while True:
            try:
                async with asyncio.timeout_at(limit):
                    messages.append(await anext(stream))
            except TimeoutError:
                if len(messages) >= count:
                    return messages
                raise AssertionError(f"{topic}: {len(messages)} of {count} messages after {within}s") from None
            if len(messages) == count:
                limit = loop.time() + 0.5
    finally:
        await stream.aclose()


async def send(settings: EventSettings, topic: str, values: Sequence[tuple[bytes, bytes | None]]) -> None:
    """Writes raw (key, value) messages to a topic, as a foreign or broken producer might."""
    producer: AIOKafkaProducer = await kafka.started(
        lambda: kafka.producer(settings, client_id="test-writer"), settings
    )
    try:
        deliveries = [await producer.send(topic, value, key=key) for key, value in values]
        await asyncio.gather(*deliveries)
    finally:
        await producer.stop()


async def eventually(probe: Callable[[], Awaitable[T]], until: Callable[[T], bool], *, within: float = 30.0) -> T:
    """Polls ``probe`` until its answer satisfies ``until``; fails with the last answer."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        answer = await probe()
        if until(answer):
            return answer
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"still {answer!r} after {within}s")
        await asyncio.sleep(0.05)


@asynccontextmanager
async def worker(
    name: str,
    database_url: str,
    settings: EventSettings,
    *,
    relay: bool = True,
    consume: bool = True,
    handled: Mapping[str, Handler] | None = None,
) -> AsyncIterator[asyncio.Task[None]]:
    """``shopgraph worker NAME`` as a task; ``handled`` replaces the subgraph's handlers."""
    task = asyncio.create_task(
        run_worker(
            event_store(name),
            database_url,
            settings,
            handlers(name) if handled is None else handled,
            relay=relay,
            consume=consume,
        )
    )
    try:
        yield task
    finally:
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task
