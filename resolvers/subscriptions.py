"""What a subscription field stands on: the process's hub, the caller and tenant of the socket,
and fresh loaders for every event it resolves."""

from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

import strawberry

from events.envelope import Event
from events.feed import Item
from resolvers.context import Context
from resolvers.errors import Unavailable
from resolvers.live import Events, Stream

T = TypeVar("T")


@strawberry.type
class LiveEvent:
    """What every subscription's event carries: where it sits and when it happened."""

    cursor: str = strawberry.field(description="Pass as `after` to resume right after this event.")
    at: datetime = strawberry.field(description="When it happened.")


async def subscribe(
    info: strawberry.Info[Context[Any], None],
    stream: Stream,
    accepts: Callable[[Event], bool],
    after: str | None,
    shape: Callable[[Item, str], T],
) -> Events[T]:
    """The events of ``stream`` this caller may see and ``accepts`` keeps, each ``shape``d with
    its cursor. Refusals (a bad cursor, too many subscriptions) are raised here, before the
    first event."""
    context = info.context
    hub = context.runtime.live
    if hub is None:
        raise Unavailable("This service streams no events.")
    return await hub.stream(
        stream,
        tenant=context.tenant,
        caller=context.caller,
        accepts=accepts,
        after=after,
        shape=shape,
        before_each=context.new_event,
    )
