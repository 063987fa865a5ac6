"""Per-request loaders: payments by id, an order's newest payment, refunds by payment."""

from dataclasses import dataclass

from strawberry.dataloader import DataLoader

from resolvers.context import Context
from resolvers.loaders import many_by, one_by
from subgraphs.payments.tables import PaymentRow, RefundRow


@dataclass(frozen=True, slots=True)
class PaymentsLoaders:
    payment: DataLoader[str, PaymentRow | None]
    latest_for_order: DataLoader[str, PaymentRow | None]
    refunds: DataLoader[str, list[RefundRow]]


def make_loaders(context: "Context[PaymentsLoaders]", _runtime: object) -> PaymentsLoaders:
    return PaymentsLoaders(
        payment=one_by(context, PaymentRow.id),
        # Earliest attempt first, so the newest attempt of each order is the one that stays.
        latest_for_order=one_by(context, PaymentRow.order_id, order_by=(PaymentRow.attempt, PaymentRow.created_at)),
        refunds=many_by(context, RefundRow.payment_id, order_by=(RefundRow.created_at, RefundRow.id)),
    )
