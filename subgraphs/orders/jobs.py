"""The orders subgraph's periodic jobs (run by ``shopgraph worker orders``): unpaid orders
expire, and order mail goes out."""

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from events.jobs import Job, each_in_its_own_transaction
from resolvers.db import utcnow, writer
from subgraphs.orders import notifications, services
from subgraphs.orders.settings import OrdersSettings
from subgraphs.orders.tables import OrderStatus

BATCH = 100


async def expire_unpaid(sessions: async_sessionmaker[AsyncSession], *, now: datetime | None = None) -> int:
    """Orders still unpaid past their time expire: the catalog releases their stock and
    payments cancels their intent (refunding one that was paid at the last moment)."""
    now = now or utcnow()
    async with sessions() as session:
        due = await services.due_to_expire(now, limit=BATCH, session=session)

    async def expire(key: tuple[str, str], session: AsyncSession) -> bool:
        tenant, order_id = key
        order = await services.locked(tenant, order_id, session=session)
        # Read again under the lock: it may have been paid or retried since.
        if order.status not in services.UNPAID or order.expires_at is None or order.expires_at >= now:
            return False
        await services.move(order, OrderStatus.EXPIRED, reason="not paid in time", session=session)
        return True

    return await each_in_its_own_transaction(sessions, due, expire, what="expire unpaid orders")


def jobs(settings: OrdersSettings, engine: AsyncEngine) -> Sequence[Job]:
    sessions = writer(engine)
    return [
        Job("expire unpaid orders", settings.expiry_sweep_seconds, lambda: expire_unpaid(sessions)),
        Job("send order mail", settings.mail_every_seconds, lambda: notifications.send_queued(sessions, settings)),
    ]
