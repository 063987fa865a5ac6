"""Periodic work a subgraph's worker runs beside its relay and consumers: sweeps that finish
what an event or a request left undone (expired reservations, unpaid orders, payments whose
webhook never came, mail to send)."""

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import structlog

log = structlog.get_logger(__name__)


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
