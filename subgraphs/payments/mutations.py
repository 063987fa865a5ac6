"""The payments mutation root."""

from typing import Annotated

import strawberry

from resolvers import scopes, validation
from resolvers.permissions import requires_scopes
from subgraphs.payments import services
from subgraphs.payments.gateway import StripeGateway
from subgraphs.payments.types import Info, Payment

MAX_KEY_LENGTH = 100


@strawberry.type
class Mutation:
    @requires_scopes(
        scopes.PAYMENTS_REFUND,
        description="Gives part or all of a captured payment back through Stripe; never more than was captured.",
    )
    async def refund_payment(
        self,
        info: Info,
        payment_id: strawberry.ID,
        amount: int,
        idempotency_key: Annotated[
            str | None, strawberry.argument(description="Sent again with a retried refund, it refunds only once.")
        ] = None,
    ) -> Payment:
        context = info.context
        gateway: StripeGateway = context.runtime.extra
        # Absent means "no retry protection"; a key that is present must be one (a blank key
        # would silently refund again on every retry).
        key = (
            None
            if idempotency_key is None
            else validation.text(idempotency_key, field="idempotencyKey", max_length=MAX_KEY_LENGTH)
        )
        async with context.transaction() as session:
            payment = await services.refund(
                context.tenant,
                validation.uuid_id(payment_id, field="paymentId"),
                amount,
                idempotency_key=key,
                gateway=gateway,
                session=session,
            )
        return Payment.from_row(payment)
