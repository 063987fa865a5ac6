"""Per-request loaders: payments by id, an order's newest payment, refunds by payment."""

from dataclasses import dataclass

from sqlalchemy import select
from strawberry.dataloader import DataLoader

from resolvers.context import Context
from resolvers.loaders import loader, many_per_key, one_per_key
from resolvers.validation import is_uuid
from subgraphs.payments.tables import PaymentRow, RefundRow


@dataclass(frozen=True, slots=True)
class PaymentsLoaders:
    payment: DataLoader[str, PaymentRow | None]
    latest_for_order: DataLoader[str, PaymentRow | None]
    refunds: DataLoader[str, list[RefundRow]]


def make_loaders(context: "Context[PaymentsLoaders]", _runtime: object) -> PaymentsLoaders:
    async def payments(ids: list[str]) -> list[PaymentRow | None]:
        wanted = [i for i in ids if is_uuid(i)]
        async with context.db() as session:
            rows = await session.scalars(
                select(PaymentRow).where(PaymentRow.tenant_id == context.tenant, PaymentRow.id.in_(wanted))
            )
            return one_per_key(ids, rows, lambda row: row.id)

    async def latest(order_ids: list[str]) -> list[PaymentRow | None]:
        async with context.db() as session:
            rows = await session.scalars(
                select(PaymentRow)
                .where(PaymentRow.tenant_id == context.tenant, PaymentRow.order_id.in_(order_ids))
                .order_by(PaymentRow.created_at, PaymentRow.id)
            )
            # Oldest first, so the newest payment of each order is the one left in the map.
            return one_per_key(order_ids, rows, lambda row: row.order_id)

    async def refunds(payment_ids: list[str]) -> list[list[RefundRow]]:
        async with context.db() as session:
            rows = await session.scalars(
                select(RefundRow)
                .where(RefundRow.tenant_id == context.tenant, RefundRow.payment_id.in_(payment_ids))
                .order_by(RefundRow.created_at, RefundRow.id)
            )
            return many_per_key(payment_ids, rows, lambda row: row.payment_id)

    return PaymentsLoaders(payment=loader(payments), latest_for_order=loader(latest), refunds=loader(refunds))
