"""The catalog's periodic jobs (run by ``shopgraph worker catalog``)."""

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from events.jobs import Job, each_in_its_own_transaction
from resolvers.db import utcnow, writer
from subgraphs.catalog import reservations
from subgraphs.catalog.settings import CatalogSettings

BATCH = 100


async def release_expired(sessions: async_sessionmaker[AsyncSession], *, now: datetime | None = None) -> int:
    """Gives back the stock of held reservations past their time: a checkout that died between
    reserving and committing its order, or an order whose end never reached us."""
    now = now or utcnow()
    async with sessions() as session:
        due = await reservations.expired(now, limit=BATCH, session=session)

    async def expire(key: tuple[str, str], session: AsyncSession) -> bool:
        tenant, reservation_id = key
        return await reservations.expire(tenant, reservation_id, now=now, session=session)

    return await each_in_its_own_transaction(sessions, due, expire, what="release expired reservations")


def jobs(settings: CatalogSettings, engine: AsyncEngine) -> Sequence[Job]:
    sessions = writer(engine)
    return [Job("release expired reservations", settings.reservation_sweep_seconds, lambda: release_expired(sessions))]
