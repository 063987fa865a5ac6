"""Subscriptions: the process's live feed fanned out in memory to every subscriber.

Each event goes first to the subscribers of its tenant only, then each keeps it when the
caller may see it and the subscription's arguments ask for it (``Listener.accepts``). A
subscriber has a bounded buffer: one that falls further behind than that is ended with
``SLOW_CONSUMER`` and the cursor of the last event it was given, and never holds up the feed
or anyone else. A subscription also ends with ``UNAUTHENTICATED`` when its token expires.

A cursor is opaque to clients: which stream it belongs to and the feed's position after the
event it came with. ``after: cursor`` replays what came since, then joins the live stream with
nothing missed or repeated at the seam (``Hub.stream``).
"""

import asyncio
import base64
import time
import weakref
from collections import Counter, deque
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Sequence
from contextlib import aclosing, asynccontextmanager, suppress
from dataclasses import dataclass, field
from typing import Generic, TypeVar

import orjson
import structlog
from aiokafka import TopicPartition
from aiokafka.errors import KafkaError

from events.envelope import Event
from events.feed import Feed, Item, OutOfRange, Position
from events.settings import EventSettings
from resolvers.auth import Caller
from resolvers.errors import (
    BadUserInput,
    ShopgraphError,
    SlowConsumer,
    TooManySubscriptions,
    Unauthenticated,
    Unavailable,
)
from resolvers.settings import SubgraphSettings

log = structlog.get_logger(__name__)

CURSOR_VERSION = 1
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Stream:
    """What one subscription field streams: a name its cursors carry and the topics it reads."""

    name: str
    topics: frozenset[str]

    def encode(self, position: Position) -> str:
        offsets = {f"{p.topic}:{p.partition}": offset for p, offset in position.items() if p.topic in self.topics}
        document = orjson.dumps({"v": CURSOR_VERSION, "s": self.name, "o": offsets}, option=orjson.OPT_SORT_KEYS)
        return base64.urlsafe_b64encode(document).decode().rstrip("=")

    def decode(self, cursor: str, partitions: Sequence[TopicPartition]) -> dict[TopicPartition, int]:
        """The position a cursor of this stream names, over exactly ``partitions``."""
        wanted = {f"{p.topic}:{p.partition}": p for p in partitions if p.topic in self.topics}
        try:
            document = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
            offsets = document["o"]
            valid = (
                isinstance(offsets, dict)
                and document["v"] == CURSOR_VERSION
                and document["s"] == self.name
                and set(offsets) == set(wanted)
                and all(type(offset) is int and offset >= -1 for offset in offsets.values())
            )
        except (ValueError, TypeError, KeyError) as exc:
            raise BadUserInput("This is not a cursor of this subscription.", field="after") from exc
        if not valid:
            raise BadUserInput("This is not a cursor of this subscription.", field="after")
        return {wanted[key]: offset for key, offset in offsets.items()}


@dataclass(eq=False)
class Listener:
    """One subscription as the hub sees it."""

    stream: Stream
    tenant: str
    caller: Caller
    accepts: Callable[[Event], bool]
    capacity: int
    queue: deque[Item] = field(default_factory=deque)
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    # While it replays, live events wait here; None once it is live.
    held: list[Item] | None = None
    overflowed: bool = False
    ended: ShopgraphError | None = None
    # Per partition, the offset of the last event it was given: nothing at or before it again.
    seen: dict[TopicPartition, int] = field(default_factory=dict)

    def wants(self, event: Event) -> bool:
        """Its tenant's events only, then those the caller may see and the arguments ask for
        (``accepts``); an event its filter cannot read is not for it."""
        if event.tenant != self.tenant or event.type not in self.stream.topics:
            return False
        try:
            return self.accepts(event)
        except (KeyError, TypeError, ValueError):
            log.warning("subscription filter cannot read an event", type=event.type, event_id=event.id)
            return False

    def offer(self, item: Item) -> None:
        """A live event: buffered when it is for this subscriber."""
        if self.ended is not None or not self.wants(item.event):
            return
        if self.held is not None:
            if len(self.held) < self.capacity:
                self.held.append(item)
            else:
                self.overflowed = True  # the replay goes round once more
            return
        if len(self.queue) >= self.capacity:
            self.ended = SlowConsumer("This subscription fell too far behind; resume from its last cursor.")
        else:
            self.queue.append(item)
        self.wake.set()

    def fresh(self, item: Item) -> bool:
        """Whether ``item`` comes after everything this subscriber was given from its
        partition (replay and live overlap at the seam); it is given now."""
        if item.offset <= self.seen.get(item.partition, -1):
            return False
        self.seen[item.partition] = item.offset
        return True


@dataclass(frozen=True, slots=True)
class Limits:
    buffer: int
    per_caller: int
    anonymous: int
    # Replays (each a Kafka client of its own) at once in this process: a reconnect storm
    # after a restart waits its turn instead of opening thousands of broker connections.
    replays: int = 16


class Hub:
    """The feed's subscribers, by tenant; ``dispatch`` is the feed's callback."""

    def __init__(self, feed_for: Callable[[Callable[[Item], None]], Feed], limits: Limits) -> None:
        self.feed = feed_for(self.dispatch)
        self.limits = limits
        self.replays = asyncio.Semaphore(limits.replays)
        self.by_tenant: dict[str, set[Listener]] = {}
        self.per_caller: Counter[tuple[str, str | None]] = Counter()

    def dispatch(self, item: Item) -> None:
        for listener in tuple(self.by_tenant.get(item.event.tenant, ())):
            listener.offer(item)

    async def stream(
        self,
        stream: Stream,
        *,
        tenant: str,
        caller: Caller,
        accepts: Callable[[Event], bool],
        after: str | None,
        shape: Callable[[Item, str], T],
        before_each: Callable[[], None] = lambda: None,
    ) -> "Events[T]":
        """Checks the cursor and the caller's allowance and registers the subscriber, all now
        (a refusal is the subscribe's error; events from this moment on are its). Each event
        comes ``shape``d with its cursor, after ``before_each`` ran."""
        if not self.feed.ready.is_set():
            raise Unavailable("Subscriptions are starting; try again in a moment.")
        start = None if after is None else stream.decode(after, self.feed.partitions)
        key = (tenant, caller.subject)
        allowed = self.limits.per_caller if caller.is_authenticated else self.limits.anonymous
        if self.per_caller[key] >= allowed:
            raise TooManySubscriptions(f"At most {allowed} subscriptions at a time.", limit=allowed)
        if start is not None:
            try:
                async with self.replays:
                    await self.feed.check(start)
            except OutOfRange as exc:
                raise BadUserInput(f"This cursor cannot be resumed from: it is {exc}.", field="after") from exc
            except KafkaError as exc:
                raise Unavailable("Events cannot be replayed right now; try again shortly.") from exc
        if self.per_caller[key] >= allowed:  # others may have subscribed while the broker answered
            raise TooManySubscriptions(f"At most {allowed} subscriptions at a time.", limit=allowed)
        listener = Listener(stream, tenant, caller, accepts, self.limits.buffer)
        if start is None:
            listener.seen = {p: offset for p, offset in self.feed.position.items() if p.topic in stream.topics}
            until = None
        else:
            listener.seen, listener.held = dict(start), []
            until = {p: self.feed.position[p] for p in start}
        self.per_caller[key] += 1
        self.by_tenant.setdefault(tenant, set()).add(listener)
        return Events(self._events(listener, until), shape, before_each, lambda: self._forget(listener))

    def _forget(self, listener: Listener) -> None:
        key = (listener.tenant, listener.caller.subject)
        listeners = self.by_tenant[listener.tenant]
        listeners.discard(listener)
        if not listeners:
            del self.by_tenant[listener.tenant]
        self.per_caller[key] -= 1
        if not self.per_caller[key]:
            del self.per_caller[key]

    def end_all(self, error: ShopgraphError) -> None:
        """Ends every subscription with ``error`` (the feed stopped)."""
        for listeners in self.by_tenant.values():
            for listener in listeners:
                listener.ended = error
                listener.wake.set()

    async def _events(self, listener: Listener, until: Position | None) -> AsyncGenerator[tuple[Item, str]]:
        stream = listener.stream
        loop = asyncio.get_running_loop()
        expires_at = _expiry(listener.caller)
        # Where it stands before its first event: resuming from here misses nothing.
        last_cursor = stream.encode(listener.seen)

        def expired() -> Unauthenticated:
            return Unauthenticated(
                "The access token expired; subscribe again with a fresh one and the last cursor.", cursor=last_cursor
            )

        if until is not None:
            async with aclosing(self._caught_up(listener, until)) as replayed:
                async for item in replayed:
                    if expires_at is not None and loop.time() >= expires_at:
                        raise expired()
                    last_cursor = stream.encode(item.position)
                    yield item, last_cursor
        while True:
            while not listener.queue:
                if listener.ended is not None:
                    listener.ended.extensions["cursor"] = last_cursor
                    raise listener.ended
                listener.wake.clear()
                try:
                    async with asyncio.timeout_at(expires_at):
                        await listener.wake.wait()
                except TimeoutError:
                    raise expired() from None
            if listener.ended is not None:
                listener.queue.clear()
                continue
            if expires_at is not None and loop.time() >= expires_at:
                raise expired()
            item = listener.queue.popleft()
            if listener.fresh(item):
                last_cursor = stream.encode(item.position)
                yield item, last_cursor

    async def _caught_up(self, listener: Listener, until: Position) -> AsyncGenerator[Item]:
        """Replays from the listener's position to ``until`` (the feed's when it registered),
        and again to the feed's newer one as long as the live events that arrived meanwhile
        overflowed its buffer; then hands those over and goes live."""
        while True:
            async with self.replays, aclosing(self.feed.replay(dict(listener.seen), until)) as replayed:
                try:
                    async for item in replayed:
                        if listener.wants(item.event) and listener.fresh(item):
                            yield item
                except OutOfRange as exc:
                    raise BadUserInput(f"This cursor cannot be resumed from: it is {exc}.", field="after") from exc
            if not listener.overflowed:
                break
            listener.held, listener.overflowed = [], False
            until = {p: self.feed.position[p] for p in until}
        held, listener.held = listener.held or [], None
        for item in held:
            if listener.fresh(item):
                yield item


class Events(Generic[T]):
    """A subscriber's events, shaped for its field. Closing it, or dropping it unclosed (a
    client gone before the first event), takes the subscriber off the hub."""

    def __init__(
        self,
        source: AsyncGenerator[tuple[Item, str]],
        shape: Callable[[Item, str], T],
        before_each: Callable[[], None],
        forget: Callable[[], None],
    ) -> None:
        self._source = source
        self._shape = shape
        self._before_each = before_each
        self._forget = weakref.finalize(self, forget)

    def __aiter__(self) -> "Events[T]":
        return self

    async def __anext__(self) -> T:
        item, cursor = await anext(self._source)
        self._before_each()
        return self._shape(item, cursor)

    async def aclose(self) -> None:
        self._forget()
        await self._source.aclose()


@asynccontextmanager
async def live_hub(settings: SubgraphSettings, streams: Sequence[Stream]) -> AsyncIterator[Hub]:
    """The hub of a subgraph process, its feed reading for as long as the block runs."""
    topics = sorted({topic for stream in streams for topic in stream.topics})
    hub = Hub(
        lambda dispatch: Feed(EventSettings(), topics, client_id=f"shopgraph-{settings.name}", dispatch=dispatch),
        Limits(
            buffer=settings.subscription_buffer,
            per_caller=settings.max_subscriptions_per_caller,
            anonymous=settings.max_anonymous_subscriptions,
        ),
    )
    reading = asyncio.create_task(hub.feed.run(), name=f"{settings.name} live feed")
    reading.add_done_callback(lambda task: _feed_ended(hub, task))
    try:
        yield hub
    finally:
        reading.cancel()
        with suppress(asyncio.CancelledError):
            await reading


def _feed_ended(hub: Hub, reading: "asyncio.Task[None]") -> None:
    """The feed reads until the process stops. Anything else ending it is a bug: logged, and
    every subscription ended (clients resume elsewhere or later) rather than left silent."""
    if reading.cancelled() or reading.exception() is None:
        return
    log.error("live feed stopped", error=type(reading.exception()).__name__)
    hub.feed.ready.clear()
    hub.end_all(Unavailable("Events stopped arriving here; resume from the last cursor."))


def _expiry(caller: Caller) -> float | None:
    """When the caller's token expires, on the event loop's clock."""
    if caller.expires_at is None:
        return None
    loop = asyncio.get_running_loop()
    return loop.time() + (caller.expires_at - time.time())
