"""The orders subgraph's periodic jobs (run by ``shopgraph worker orders``): unpaid orders
expire, and order mail goes out."""

from collections.abc import Sequence
from datetime import datetime

import structlog
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from events.jobs import Job
from resolvers.db import utcnow, writer
from subgraphs.orders import notifications, services
from subgraphs.orders.settings import OrdersSettings
from subgraphs.orders.tables import OrderStatus

BATCH = 100

log = structlog.get_logger(__name__)


async def expire_unpaid(sessions: async_sessionmaker[AsyncSession], *, now: datetime | None = None) -> int:
    """Orders still unpaid past their time expire: the catalog releases their stock and
    payments cancels their intent (refunding one that was paid at the last moment). Each
    order in its own transaction, so one that fails does not hold back the others."""
    now = now or utcnow()
    async with sessions() as session:
        due = await services.due_to_expire(now, limit=BATCH, session=session)
    expired = 0
    for tenant, order_id in due:
        try:
            async with sessions.begin() as session:
                order = await services.locked(tenant, order_id, session=session)
                # Read again under the lock: it may have been paid or retried since.
                if order.status in services.UNPAID and order.expires_at is not None and order.expires_at < now:
                    await services.move(order, OrderStatus.EXPIRED, reason="not paid in time", session=session)
                    expired += 1
        except Exception:
            log.exception("expiring an order failed", order_id=order_id)
    return expired


def jobs(settings: OrdersSettings, engine: AsyncEngine) -> Sequence[Job]:
    sessions = writer(engine)
    return [
        Job("expire unpaid orders", settings.expiry_sweep_seconds, lambda: expire_unpaid(sessions)),
        Job("send order mail", settings.mail_every_seconds, lambda: notifications.send_queued(sessions, settings)),
    ]
