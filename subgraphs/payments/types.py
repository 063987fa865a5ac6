"""The payments subgraph's GraphQL types: ``Payment`` and ``Order.payment``. A payment is
its payer's; ``orders:admin`` reads any in the tenant."""

from datetime import datetime
from typing import Self

import strawberry

from resolvers import scopes
from resolvers.context import Context
from resolvers.list_sizes import assumed
from resolvers.money import Money
from resolvers.permissions import owner_or_scope, requires_any_scope
from subgraphs.payments import tables
from subgraphs.payments.loaders import PaymentsLoaders
from subgraphs.payments.tables import PaymentRow, RefundRow

Info = strawberry.Info[Context[PaymentsLoaders], None]

ADMIN_SCOPE = scopes.ORDERS_ADMIN
READER_SCOPE = scopes.PAYMENTS_READ

strawberry.enum(tables.PaymentStatus)


@strawberry.type
class Refund:
    id: strawberry.ID
    amount: Money
    status: str
    created_at: datetime

    @classmethod
    def from_row(cls, row: RefundRow, currency: str) -> Self:
        return cls(
            id=strawberry.ID(row.id),
            amount=Money.of(row.amount, currency),
            status=row.status,
            created_at=row.created_at,
        )


@strawberry.federation.type(keys=["id"])
class Order:
    id: strawberry.ID

    @requires_any_scope(READER_SCOPE, ADMIN_SCOPE, description="The order's newest payment attempt.")
    async def payment(self, info: Info) -> "Payment | None":
        row = await info.context.loaders.latest_for_order.load(self.id)
        if row is None:
            return None
        owner_or_scope(info.context, row.user_id, ADMIN_SCOPE, reader=READER_SCOPE)
        return Payment.from_row(row)

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> Self:
        return cls(id=id)


@strawberry.federation.type(keys=["id"])
class Payment:
    id: strawberry.ID
    status: tables.PaymentStatus
    amount: Money
    refunded: Money
    provider_ref: str = strawberry.field(description="The Stripe PaymentIntent id.")
    attempt: int = strawberry.field(description="Which attempt to pay the order this is: 2 after one failure.")
    failure_message: str | None = strawberry.field(description="Why the last try to pay failed, in Stripe's words.")
    created_at: datetime
    order: Order
    user_id: strawberry.Private[str]
    secret: strawberry.Private[str | None]

    @strawberry.field(description="What Stripe Elements needs to confirm the payment; only its payer sees it.")
    def client_secret(self, info: Info) -> str | None:
        if info.context.caller.subject != self.user_id:
            return None
        return self.secret

    # Refunds are partial at most a few times per payment; nothing caps them.
    @strawberry.field(directives=[assumed(10)])
    async def refunds(self, info: Info) -> list[Refund]:
        rows = await info.context.loaders.refunds.load(self.id)
        return [Refund.from_row(row, self.amount.currency) for row in rows]

    @classmethod
    def from_row(cls, row: PaymentRow) -> Self:
        # Empty only inside the transaction that asks Stripe for the intent: never committed.
        assert row.provider_ref is not None
        return cls(
            id=strawberry.ID(row.id),
            status=tables.PaymentStatus(row.status),
            amount=Money.of(row.amount, row.currency),
            refunded=Money.of(row.refunded_amount, row.currency),
            provider_ref=row.provider_ref,
            attempt=row.attempt,
            failure_message=row.failure_message,
            created_at=row.created_at,
            order=Order(id=strawberry.ID(row.order_id)),
            user_id=row.user_id,
            secret=row.client_secret,
        )

    @classmethod
    async def resolve_reference(cls, info: Info, id: strawberry.ID) -> Self | None:
        row = await info.context.loaders.payment.load(id)
        if row is None:
            return None
        owner_or_scope(info.context, row.user_id, ADMIN_SCOPE, reader=READER_SCOPE)
        return cls.from_row(row)
