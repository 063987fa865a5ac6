"""The events the payments subgraph consumes (run by ``shopgraph worker payments``). Each
handler runs in the transaction that records the event as handled, so its effect happens once."""

from collections.abc import Mapping

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from events.consumer import Handler
from events.envelope import Event
from subgraphs.payments import services
from subgraphs.payments.gateway import StripeGateway
from subgraphs.payments.settings import PaymentsSettings

log = structlog.get_logger(__name__)

# The order statuses that end a payment attempt without a sale.
VOIDING = frozenset({"PAYMENT_FAILED", "CANCELLED", "EXPIRED"})


def make_handlers(settings: PaymentsSettings) -> Mapping[str, Handler]:
    async def void_ended_attempt(event: Event, session: AsyncSession) -> None:
        """``order.status_changed`` ending an attempt: its intent can no longer be paid, and
        a payment that slipped in meanwhile is refunded."""
        data = event.data
        if data["to"] not in VOIDING:
            return
        async with StripeGateway.open(settings) as gateway:
            payment = await services.void(
                event.tenant, data["orderId"], data["attempt"], gateway=gateway, session=session
            )
        if payment is not None:
            log.info("payment attempt voided", payment_id=payment.id, status=payment.status)

    return {"order.status_changed": void_ended_attempt}
