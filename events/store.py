"""Each subgraph's outbox and inbox: two tables in the subgraph's own database, so that an event
is written in the same transaction as the change it reports, and a consumed event's id in the
same transaction as the effect it had.

Table names carry the subgraph's name because the five subgraphs may share one PostgreSQL
database (see docker-compose.yml).
"""

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Column, Index, Integer, MetaData, String, Table, Text, text
from sqlalchemy.ext.asyncio import AsyncSession

from events.envelope import Event, new_event
from resolvers.db import UtcDateTime, insert_if_absent, utcnow


class EventStore:
    """The outbox and inbox of one subgraph, declared on its metadata so its migrations and
    table declarations agree."""

    def __init__(self, metadata: MetaData, subgraph: str) -> None:
        self.subgraph = subgraph
        self.source = f"shopgraph/{subgraph}"
        self.consumer = subgraph
        unsent = text("sent_at IS NULL")
        self.outbox = Table(
            f"{subgraph}_outbox",
            metadata,
            # The relay publishes in ``seq`` order, which is commit order for any one
            # aggregate: every service locks the aggregate's row before it writes an event.
            Column("seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
            Column("event_id", String(36), nullable=False, unique=True),
            Column("topic", String(120), nullable=False),
            Column("partition_key", String(255), nullable=False),
            Column("payload", Text, nullable=False),
            Column("created_at", UtcDateTime(), nullable=False),
            Column("sent_at", UtcDateTime(), nullable=True),
            # What the relay polls for: small however long the sent history grows.
            Index(f"ix_{subgraph}_outbox_unsent", "seq", sqlite_where=unsent, postgresql_where=unsent),
            Index(f"ix_{subgraph}_outbox_sent_at", "sent_at"),
        )
        self.inbox = Table(
            f"{subgraph}_inbox",
            metadata,
            Column("consumer", String(100), primary_key=True),
            Column("event_id", String(36), primary_key=True),
            Column("topic", String(120), nullable=False),
            Column("processed_at", UtcDateTime(), nullable=False, index=True),
        )

    async def emit(
        self, session: AsyncSession, event_type: str, *, tenant: str, aggregate_id: str, data: dict[str, Any]
    ) -> Event:
        """Adds an event to the caller's transaction: it is published if and only if the
        transaction commits. Refuses (``InvalidEvent``) a payload its contract does not accept."""
        event = new_event(event_type, source=self.source, tenant=tenant, aggregate_id=aggregate_id, data=data)
        await session.execute(
            self.outbox.insert().values(
                event_id=event.id,
                topic=event.topic,
                partition_key=event.aggregate_id,
                payload=event.encode().decode(),
                created_at=event.time,
            )
        )
        return event

    async def first_sight(self, session: AsyncSession, event: Event, *, at: datetime | None = None) -> bool:
        """Records that this subgraph handled ``event``; False when it already had, in which case
        the caller must not apply the effect again. Call it in the effect's transaction."""
        values = {"consumer": self.consumer, "event_id": event.id, "topic": event.topic, "processed_at": at or utcnow()}
        return await insert_if_absent(session, self.inbox, values, unique=("consumer", "event_id"))
