"""The orders query root."""

import strawberry

from resolvers import validation
from resolvers.permissions import owner_or_scope, requires_any_scope
from subgraphs.orders.types import ADMIN_SCOPE, READER_SCOPE, Info, Order


@strawberry.type
class Query:
    @requires_any_scope(
        READER_SCOPE, ADMIN_SCOPE, description="One of the caller's orders (any order of the store with orders:admin)."
    )
    async def order(self, info: Info, id: strawberry.ID) -> Order | None:
        row = await info.context.loaders.order.load(validation.uuid_id(id))
        if row is None:
            return None
        owner_or_scope(info.context, row.user_id, ADMIN_SCOPE, reader=READER_SCOPE)
        return Order.from_row(row)
