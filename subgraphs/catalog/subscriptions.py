"""``productEvents``: prices, stock and archiving as they change, for anyone browsing."""

from collections.abc import AsyncIterator
from enum import Enum
from typing import Self

import strawberry

from events.envelope import Event
from events.feed import Item
from resolvers.errors import BadUserInput
from resolvers.live import Stream
from resolvers.subscriptions import LiveEvent, subscribe
from subgraphs.catalog.types import Info, Product

PRODUCT_EVENTS = Stream("products", frozenset({"product.updated", "inventory.adjusted", "product.archived"}))
# A product page follows one; a partner's listing a page of them.
MAX_PRODUCT_IDS = 100


@strawberry.enum(description="What changed about the product.")
class ProductEventType(Enum):
    UPDATED = "product.updated"
    STOCK_CHANGED = "inventory.adjusted"
    ARCHIVED = "product.archived"


@strawberry.type(description="A product changed: its details or price, its stock, or it was archived.")
class ProductEvent(LiveEvent):
    type: ProductEventType
    product_id: strawberry.ID
    changed: list[str] = strawberry.field(
        description="For UPDATED, which of name, description, price, category changed."
    )
    available: int | None = strawberry.field(description="For STOCK_CHANGED, the units that can be ordered now.")

    @strawberry.field(description="The product as it stands now.")
    async def product(self, info: Info) -> Product | None:
        view = await info.context.loaders.product.load(self.product_id)
        return None if view is None else Product.from_view(view)

    @classmethod
    def of(cls, item: Item, cursor: str) -> Self:
        event, data = item.event, item.event.data
        return cls(
            cursor=cursor,
            type=ProductEventType(event.type),
            at=event.time,
            product_id=strawberry.ID(data["productId"]),
            changed=list(data.get("changed", ())),
            available=data.get("available"),
        )


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description=f"Products as they change, from now or `after` a cursor: those of `ids` (at most "
        f"{MAX_PRODUCT_IDS}), or every product of the store."
    )
    async def product_events(
        self, info: Info, ids: list[strawberry.ID] | None = None, after: str | None = None
    ) -> AsyncIterator[ProductEvent]:
        if ids is not None and len(ids) > MAX_PRODUCT_IDS:
            raise BadUserInput(f"Follow at most {MAX_PRODUCT_IDS} products at a time.", field="ids")
        wanted = None if ids is None else frozenset(ids)

        def accepts(event: Event) -> bool:
            return wanted is None or event.data["productId"] in wanted

        return await subscribe(info, PRODUCT_EVENTS, accepts, after, ProductEvent.of)
