"""The events the orders subgraph consumes (run by ``shopgraph worker orders``). Each handler runs
in the transaction that records the event as handled, so its effect happens once."""

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from events.consumer import Handler
from events.envelope import Event
from subgraphs.orders import checkout, services
from subgraphs.orders.tables import OrderRow

log = structlog.get_logger(__name__)


async def _outcome(event: Event, session: AsyncSession, *, succeeded: bool) -> None:
    data = event.data
    order: OrderRow | None = await session.get(OrderRow, data["orderId"], with_for_update=True)
    if order is None or order.tenant_id != event.tenant:
        # Paid (or declined) before the checkout committed its order: the checkout applies it.
        order = await checkout.record_early_outcome(
            event.tenant, data["orderId"], attempt=data["attempt"], succeeded=succeeded, session=session
        )
        if order is None:
            return
    reason = (data.get("reason") or {}).get("message")
    await services.payment_outcome(
        event.tenant, order, attempt=data["attempt"], succeeded=succeeded, reason=reason, session=session
    )


async def mark_paid(event: Event, session: AsyncSession) -> None:
    """``payment.success``: the order becomes PAID (its confirmation mail is queued)."""
    await _outcome(event, session, succeeded=True)


async def mark_payment_failed(event: Event, session: AsyncSession) -> None:
    """``payment.failed``: the order becomes PAYMENT_FAILED; its stock goes back, and the
    shopper may retry the payment."""
    await _outcome(event, session, succeeded=False)


HANDLERS: dict[str, Handler] = {"payment.success": mark_paid, "payment.failed": mark_payment_failed}
