"""The catalog's periodic jobs (run by ``shopgraph worker catalog``)."""

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from events.jobs import Job
from resolvers.db import utcnow, writer
from subgraphs.catalog import reservations
from subgraphs.catalog.settings import CatalogSettings

BATCH = 100


async def release_expired(sessions: async_sessionmaker[AsyncSession], *, now: datetime | None = None) -> int:
    """Gives back the stock of held reservations past their time: a checkout that died between
    reserving and committing its order, or an order whose end never reached us."""
    async with sessions.begin() as session:
        due = await reservations.expired(now or utcnow(), limit=BATCH, session=session)
        for tenant, reservation_id, order_id in due:
            await reservations.release(tenant, reservation_id, order_id=order_id, session=session)
    return len(due)


def jobs(settings: CatalogSettings, engine: AsyncEngine) -> Sequence[Job]:
    sessions = writer(engine)
    return [Job("release expired reservations", settings.reservation_sweep_seconds, lambda: release_expired(sessions))]
