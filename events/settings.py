"""Settings of the event machinery, shared by every subgraph's relay and consumers."""

from pydantic_settings import BaseSettings, SettingsConfigDict


class EventSettings(BaseSettings):
    """From ``SHOPGRAPH_EVENTS_*`` variables; the defaults fit the local broker."""

    model_config = SettingsConfigDict(env_prefix="SHOPGRAPH_EVENTS_", extra="ignore")

    bootstrap_servers: str = "127.0.0.1:19092"
    # Kafka's idempotent producer keeps retried sends from duplicating or overtaking each other
    # within a partition, so an aggregate's events stay in order even when a send times out
    # and a later one gets through. The local broker (Tansu) cannot start one with aiokafka,
    # so it is off by default; turn it on against Apache Kafka (docker-compose does). The
    # consumers' inbox makes duplicates harmless either way.
    idempotent_producer: bool = False
    topic_partitions: int = 3
    replication_factor: int = 1
    request_timeout_ms: int = 10_000
    relay_batch_size: int = 500
    relay_idle_poll_seconds: float = 0.05
    consumer_batch_size: int = 100
    consumer_fetch_wait_ms: int = 100
    # How soon the group notices a consumer that died without leaving, and hands its
    # partitions to the others.
    consumer_session_timeout_ms: int = 10_000
    # A handler that fails this many times in a row on one event sends it to the dead-letter
    # topic; an unreachable database or broker is waited out instead, however long it takes.
    handler_attempts: int = 5
    handler_retry_initial_seconds: float = 0.1
    retry_max_seconds: float = 10.0
    # Sent outbox rows are kept this long for `shopgraph events replay`, inbox rows this long
    # to recognise a redelivered event; both far longer than any redelivery takes.
    retention_days: int = 7


def dead_letter_topic(consumer: str) -> str:
    """Where a consumer puts what it cannot handle: one topic per consumer group."""
    return f"{consumer}.dead-letter"
