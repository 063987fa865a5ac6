"""Periodic work a subgraph's worker runs beside its relay and consumers: sweeps that finish
what an event or a request left undone (expired reservations, unpaid orders, payments whose
webhook never came, mail to send)."""

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

log = structlog.get_logger(__name__)

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Job:
    name: str
    every_seconds: float
    run: Callable[[], Awaitable[int]]
    """Does one round and says how many things it handled."""


async def run_job(job: Job) -> None:
    """Runs ``job`` every ``every_seconds`` until cancelled. A failed round is logged and the
    next one tries again: every job is safe to repeat."""
    while True:
        try:
            handled = await job.run()
        except Exception:
            log.exception("job failed", job=job.name)
        else:
            if handled:
                log.info("job ran", job=job.name, handled=handled)
        await asyncio.sleep(job.every_seconds)


async def each_in_its_own_transaction(
    sessions: async_sessionmaker[AsyncSession],
    items: Sequence[T],
    work: Callable[[T, AsyncSession], Awaitable[bool]],
    *,
    what: str,
) -> int:
    """Runs ``work`` on each item in a transaction of its own, so that the rows one item locks
    never wait on another's, and one that fails (logged) does not hold back the rest. Returns
    how many items ``work`` said it changed."""
    changed = 0
    for item in items:
        try:
            async with sessions.begin() as session:
                changed += await work(item, session)
        except Exception:
            log.exception("job item failed", job=what, item=item)
    return changed
