"""The live feed and its hub against a real Kafka-protocol broker, fed by a subgraph's outbox
through the relay: Kafka going away loses nothing, a subscriber that falls behind is ended with
its last cursor without holding anyone up, and callers are capped."""

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from graphql import build_schema, parse

from events.feed import Feed, Item
from events.settings import EventSettings
from resolvers.auth import ANONYMOUS, Caller
from resolvers.db import create_engine, writer
from resolvers.errors import SlowConsumer, TooManySubscriptions, Unauthenticated
from resolvers.live import Events, Hub, Limits
from resolvers.migrations import upgrade
from resolvers.schema import PerEventExecutor
from subgraphs.catalog.subscriptions import PRODUCT_EVENTS
from subgraphs.catalog.tables import EVENTS
from tests.support.kafka import switched_broker, worker

TENANT = "demo"


class Store:
    """The catalog's outbox, written as its services write it."""

    def __init__(self, url: str) -> None:
        self.engine = create_engine(url)
        self.product = str(uuid.uuid4())

    async def stock(self, *levels: int, tenant: str = TENANT) -> None:
        """One `inventory.adjusted` per level, each committed on its own."""
        for level in levels:
            async with writer(self.engine).begin() as session:
                data = {
                    "productId": self.product,
                    "onHand": level,
                    "previousOnHand": 0,
                    "reserved": 0,
                    "available": level,
                }
                await EVENTS.emit(session, "inventory.adjusted", tenant=tenant, aggregate_id=self.product, data=data)


@asynccontextmanager
async def live(tmp_path: Path, limits: Limits) -> AsyncIterator[tuple[Hub, Store, EventSettings, object]]:
    """A catalog database, its relay, and a hub reading from a broker behind a switch."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'catalog.db'}"
    await upgrade("catalog", url)
    store = Store(url)
    async with switched_broker(tmp_path / "broker.log") as (settings, switch):
        hub = Hub(
            lambda dispatch: Feed(settings, sorted(PRODUCT_EVENTS.topics), client_id="test", dispatch=dispatch),
            limits,
        )
        reading = asyncio.create_task(hub.feed.run())
        try:
            async with asyncio.timeout(30):
                await hub.feed.ready.wait()
            async with worker("catalog", url, settings, consume=False):
                yield hub, store, settings, switch
        finally:
            reading.cancel()
            await asyncio.gather(reading, return_exceptions=True)
            await store.engine.dispose()


def level(item: Item, cursor: str) -> tuple[int, str]:
    """An event as a field would shape it: here the stock level and the cursor."""
    return item.event.data["available"], cursor


async def levels(events: Events[tuple[int, str]], count: int, within: float = 20.0) -> list[int]:
    async with asyncio.timeout(within):
        return [(await anext(events))[0] for _ in range(count)]


async def subscribed(
    hub: Hub, *, caller: Caller = ANONYMOUS, after: str | None = None, tenant: str = TENANT
) -> Events[tuple[int, str]]:
    return await hub.stream(
        PRODUCT_EVENTS, tenant=tenant, caller=caller, accepts=lambda event: True, after=after, shape=level
    )


async def test_events_published_while_kafka_is_away_arrive_in_order_once_it_is_back(tmp_path: Path) -> None:
    async with live(tmp_path, Limits(buffer=100, per_caller=5, anonymous=5)) as (hub, store, _settings, switch):
        events = await subscribed(hub)
        await store.stock(1, 2, 3)
        before = await levels(events, 3)
        await switch.off()  # type: ignore[attr-defined]
        await store.stock(4, 5, 6, 7)
        await asyncio.sleep(2.0)
        await switch.on()  # type: ignore[attr-defined]
        after = await levels(events, 4, within=60)
        await events.aclose()

    assert before + after == [1, 2, 3, 4, 5, 6, 7]


async def test_a_slow_subscriber_is_ended_with_its_last_cursor_and_a_fast_one_keeps_receiving(tmp_path: Path) -> None:
    async with live(tmp_path, Limits(buffer=8, per_caller=5, anonymous=5)) as (hub, store, _settings, _switch):
        fast = await subscribed(hub)
        slow = await subscribed(hub)
        await store.stock(1)
        assert await levels(fast, 1) == [1]
        _level, slow_cursor = await anext(slow)  # then it stops reading
        received = [1]
        for burst in range(6):  # bursts the buffer holds, 24 events in all
            await store.stock(*range(2 + 4 * burst, 6 + 4 * burst))
            received += await levels(fast, 4)
        with pytest.raises(SlowConsumer) as ended:
            await anext(slow)
        resumed = await subscribed(hub, after=slow_cursor)
        caught_up = await levels(resumed, 24)
        for stream in (fast, slow, resumed):
            await stream.aclose()

    assert received == list(range(1, 26))
    assert ended.value.code == "SLOW_CONSUMER"
    assert ended.value.extensions["cursor"] == slow_cursor
    assert caught_up == list(range(2, 26))


async def test_a_caller_holds_at_most_its_allowance_of_subscriptions(tmp_path: Path) -> None:
    alice, bob = (Caller(subject=name, tenant=TENANT) for name in ("alice", "bob"))
    async with live(tmp_path, Limits(buffer=8, per_caller=2, anonymous=1)) as (hub, _store, _settings, _switch):
        first, second = [await subscribed(hub, caller=alice) for _ in range(2)]
        with pytest.raises(TooManySubscriptions):
            await subscribed(hub, caller=alice)
        others = await subscribed(hub, caller=bob)  # everyone has their own allowance
        await first.aclose()
        third = await subscribed(hub, caller=alice)  # and gets it back as subscriptions end
        with pytest.raises(TooManySubscriptions):
            await subscribed(hub, caller=alice)
        del second  # dropped unread, as when a client leaves before the first event
        fourth = await subscribed(hub, caller=alice)
        anonymous = await subscribed(hub)
        with pytest.raises(TooManySubscriptions):
            await subscribed(hub)
        for stream in (others, third, fourth, anonymous):
            await stream.aclose()


async def test_a_replay_holds_only_the_subscribers_tenant(tmp_path: Path) -> None:
    async with live(tmp_path, Limits(buffer=100, per_caller=5, anonymous=5)) as (hub, store, _settings, _switch):
        mine = await subscribed(hub)
        await store.stock(1)
        [(_level, cursor)] = [await anext(mine) for _ in range(1)]
        await store.stock(2, tenant="acme")
        await store.stock(3)
        assert await levels(mine, 1) == [3]
        resumed = await subscribed(hub, after=cursor)
        replayed = await levels(resumed, 1)
        theirs_resumed = await subscribed(hub, after=cursor, tenant="acme")
        theirs = await levels(theirs_resumed, 1)
        for stream in (mine, resumed, theirs_resumed):
            await stream.aclose()

    assert replayed == [3]
    assert theirs == [2]


async def test_an_expired_token_ends_even_a_subscription_with_events_waiting(tmp_path: Path) -> None:
    """Events still queued when the token expires are not handed out: the subscription ends."""
    soon = Caller(subject="alice", tenant=TENANT, expires_at=time.time() + 2.0)
    async with live(tmp_path, Limits(buffer=1000, per_caller=5, anonymous=5)) as (hub, store, _settings, _switch):
        waiting = await subscribed(hub, caller=soon)
        watching = await subscribed(hub)
        await store.stock(*range(1, 21))
        assert await levels(watching, 20) == list(range(1, 21))  # all of them are queued by now
        await asyncio.sleep(max(0.0, soon.expires_at - time.time()) + 0.1)  # type: ignore[operator]
        with pytest.raises(Unauthenticated):
            await anext(waiting)
        for stream in (waiting, watching):
            await stream.aclose()


def test_a_long_subscription_does_not_grow_with_its_events() -> None:
    """graphql-core's per-event executors shared their subscription's memo of subfields, one
    entry per event for the subscription's life; the subgraphs' executor keeps each apart."""
    schema = build_schema("type Query { a: Int } type Part { name: String } type Subscription { part: Part }")
    subscription = PerEventExecutor.build(schema, parse("subscription { part { name } }"))
    assert isinstance(subscription, PerEventExecutor)
    for number in range(50):
        event = subscription.build_per_event_executor({"part": {"name": f"p{number}"}})
        assert event.execute_operation(False).data == {"part": {"name": f"p{number}"}}  # type: ignore[union-attr]

    assert subscription._relevant_sub_fields == {}
