"""The payments subgraph's periodic jobs (run by ``shopgraph worker payments``)."""

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from events.jobs import Job
from resolvers.db import utcnow, writer
from resolvers.errors import ShopgraphError
from subgraphs.payments import services
from subgraphs.payments.gateway import StripeGateway
from subgraphs.payments.settings import PaymentsSettings

BATCH = 50
MAX_POLL_INTERVAL = timedelta(minutes=10)


async def poll_unsettled(
    sessions: async_sessionmaker[AsyncSession], settings: PaymentsSettings, *, now: datetime | None = None
) -> int:
    """Asks Stripe about payments whose webhook has not come within the grace period, and
    settles them as a webhook would have; each is asked again later, less often as it ages.
    Each payment is settled in its own transaction."""
    now = now or utcnow()
    async with sessions() as session:
        due = await services.due_for_polling(
            now, grace=timedelta(seconds=settings.webhook_grace_seconds), limit=BATCH, session=session
        )
    settled = 0
    async with StripeGateway.open(settings) as gateway:
        for intent_id in due:
            try:
                intent = await gateway.intent(intent_id)
            except ShopgraphError:
                continue  # asked again next round
            async with sessions.begin() as session:
                payment = await services.locked_by_intent(intent_id, session=session)
                if payment is not None:
                    payment.next_check_at = services.next_check(
                        payment, now, every=timedelta(seconds=settings.poll_every_seconds), at_most=MAX_POLL_INTERVAL
                    )
                    settled += await services.settle(payment, intent, gateway=gateway, session=session)
    return settled


def jobs(settings: PaymentsSettings, engine: AsyncEngine) -> Sequence[Job]:
    sessions = writer(engine)
    return [Job("poll unsettled payments", settings.poll_every_seconds, lambda: poll_unsettled(sessions, settings))]
