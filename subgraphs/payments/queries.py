"""The payments query root."""

import strawberry

from resolvers import validation
from resolvers.permissions import owner_or_scope, requires_any_scope
from subgraphs.payments.types import ADMIN_SCOPE, READER_SCOPE, Info, Payment


@strawberry.type
class Query:
    @requires_any_scope(
        READER_SCOPE, ADMIN_SCOPE, description="One of the caller's payments (any of the store's with orders:admin)."
    )
    async def payment(self, info: Info, id: strawberry.ID) -> Payment | None:
        row = await info.context.loaders.payment.load(validation.uuid_id(id))
        if row is None:
            return None
        owner_or_scope(info.context, row.user_id, ADMIN_SCOPE, reader=READER_SCOPE)
        return Payment.from_row(row)
