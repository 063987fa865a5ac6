"""The catalog's periodic jobs (run by ``shopgraph worker catalog``)."""

from collections.abc import Sequence
from datetime import datetime

import structlog
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from events.jobs import Job
from resolvers.db import utcnow, writer
from subgraphs.catalog import reservations
from subgraphs.catalog.settings import CatalogSettings

BATCH = 100

log = structlog.get_logger(__name__)


async def release_expired(sessions: async_sessionmaker[AsyncSession], *, now: datetime | None = None) -> int:
    """Gives back the stock of held reservations past their time: a checkout that died between
    reserving and committing its order, or an order whose end never reached us. Each in its own
    transaction, so the stock rows one locks never wait on another's."""
    now = now or utcnow()
    async with sessions() as session:
        due = await reservations.expired(now, limit=BATCH, session=session)
    released = 0
    for tenant, reservation_id in due:
        try:
            async with sessions.begin() as session:
                released += await reservations.expire(tenant, reservation_id, now=now, session=session)
        except Exception:
            log.exception("releasing an expired reservation failed", reservation_id=reservation_id)
    return released


def jobs(settings: CatalogSettings, engine: AsyncEngine) -> Sequence[Job]:
    sessions = writer(engine)
    return [Job("release expired reservations", settings.reservation_sweep_seconds, lambda: release_expired(sessions))]
