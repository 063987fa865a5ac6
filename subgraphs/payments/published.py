"""The events the payments subgraph publishes, each added to the outbox in the transaction of the
change it reports (contracts under ``events/schemas/``)."""

from sqlalchemy.ext.asyncio import AsyncSession

from subgraphs.payments.tables import EVENTS, PaymentRow, RefundRow


def _money(amount: int, payment: PaymentRow) -> dict[str, object]:
    return {"amount": amount, "currency": payment.currency}


def _payment(payment: PaymentRow) -> dict[str, object]:
    return {
        "paymentId": payment.id,
        "orderId": payment.order_id,
        "attempt": payment.attempt,
        "customerId": payment.user_id,
        "amount": _money(payment.amount, payment),
        "providerRef": payment.provider_ref,
    }


async def payment_succeeded(session: AsyncSession, payment: PaymentRow) -> None:
    await EVENTS.emit(
        session, "payment.success", tenant=payment.tenant_id, aggregate_id=payment.id, data=_payment(payment)
    )


async def payment_failed(session: AsyncSession, payment: PaymentRow, reason: dict[str, str] | None) -> None:
    data = _payment(payment) | ({"reason": reason} if reason else {})
    await EVENTS.emit(session, "payment.failed", tenant=payment.tenant_id, aggregate_id=payment.id, data=data)


async def payment_refunded(session: AsyncSession, payment: PaymentRow, refund: RefundRow) -> None:
    data = {
        "paymentId": payment.id,
        "orderId": payment.order_id,
        "refundId": refund.id,
        "amount": _money(refund.amount, payment),
        "refundedTotal": _money(payment.refunded_amount, payment),
        "providerRef": refund.provider_ref,
        "customerId": payment.user_id,
    }
    await EVENTS.emit(session, "payment.refunded", tenant=payment.tenant_id, aggregate_id=payment.id, data=data)
