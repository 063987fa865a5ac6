"""One subgraph's event worker: the relay of its outbox and the consumers of the events it
handles, in one process beside the subgraph's API process (``shopgraph worker NAME``)."""

import asyncio
from collections.abc import Callable, Mapping, Sequence

import structlog
from sqlalchemy.ext.asyncio import AsyncEngine

from events import kafka
from events.consumer import ConsumerRunner, Handler
from events.jobs import Job, run_job
from events.relay import Relay
from events.settings import EventSettings
from events.store import EventStore
from resolvers.db import create_engine

MakeJobs = Callable[[AsyncEngine], Sequence[Job]]

log = structlog.get_logger(__name__)


async def run_worker(
    store: EventStore,
    database_url: str,
    settings: EventSettings,
    handlers: Mapping[str, Handler],
    *,
    relay: bool = True,
    consume: bool = True,
    jobs: MakeJobs | None = None,
) -> None:
    """Runs until cancelled, then closes its Kafka clients and database connections.
    ``jobs`` makes the subgraph's periodic jobs on the worker's engine."""
    engine = create_engine(database_url)
    client_id = f"shopgraph-{store.subgraph}"
    runner = ConsumerRunner(store, engine, settings, handlers)
    producers = kafka.Producers(settings, client_id=client_id)
    consumer = None
    try:
        work = []
        if relay:
            work.append(Relay(store, engine, settings).run(producers))
        if consume and handlers:
            await kafka.wait_for_topics(settings, [*runner.topics, runner.dead_letters])
            consumer = await kafka.started(
                lambda: kafka.consumer(settings, *runner.topics, group=runner.group, client_id=client_id), settings
            )
            work.append(runner.run(consumer, producers))
        if jobs is not None:
            work.extend(run_job(job) for job in jobs(engine))
        log.info("worker started", subgraph=store.subgraph, relay=relay, topics=runner.topics if consume else [])
        await asyncio.gather(*work)
    finally:
        if consumer is not None:
            await consumer.stop()
        await producers.discard()
        await engine.dispose()
