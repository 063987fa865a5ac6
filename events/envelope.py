"""The envelope: every event is a CloudEvents 1.0 event in the structured JSON format, whole in
the Kafka message's value, with the aggregate's id as the message key.

Our extension attributes: ``schemaversion`` (which contract the payload follows), ``tenant``
(the store it happened in) and ``partitionkey`` (the aggregate id; the CloudEvents
Partitioning extension, whose Kafka binding makes it the message key). ``subject`` names the
same aggregate for readers who know only CloudEvents.
"""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from events.contracts import UnknownEvent, registry

CONTENT_TYPE = "application/cloudevents+json; charset=UTF-8"


class InvalidEvent(ValueError):
    """An event that breaks its contract: refused when produced, dead-lettered when consumed."""


@dataclass(frozen=True, slots=True)
class Event:
    id: str
    type: str
    source: str
    tenant: str
    aggregate_id: str
    time: datetime
    schema_version: int
    data: dict[str, Any]

    @property
    def topic(self) -> str:
        """Each event type has its own topic, named like the type (``order.created``)."""
        return self.type

    def to_cloudevent(self) -> dict[str, Any]:
        return {
            "specversion": "1.0",
            "id": self.id,
            "source": self.source,
            "type": self.type,
            "subject": self.aggregate_id,
            "time": self.time.isoformat().replace("+00:00", "Z"),
            "datacontenttype": "application/json",
            "schemaversion": self.schema_version,
            "tenant": self.tenant,
            "partitionkey": self.aggregate_id,
            "data": self.data,
        }

    def encode(self) -> bytes:
        return orjson.dumps(self.to_cloudevent())


def new_event(event_type: str, *, source: str, tenant: str, aggregate_id: str, data: dict[str, Any]) -> Event:
    """An event of the newest version of its type. Refuses a payload its contract does not
    accept: a producer's mistake stops at the producer, inside the writing transaction, and
    never reaches a consumer."""
    try:
        contract = registry().latest(event_type)
    except UnknownEvent as exc:
        raise InvalidEvent(str(exc)) from exc
    event = Event(
        id=str(uuid.uuid4()),
        type=event_type,
        source=source,
        tenant=tenant,
        aggregate_id=aggregate_id,
        time=datetime.now(UTC),
        schema_version=contract.version,
        data=data,
    )
    _check(event.to_cloudevent())
    return event


def decode(raw: bytes | None) -> Event:
    """The event in a Kafka message's value, checked against the envelope and its contract."""
    if raw is None:
        raise InvalidEvent("the message has no value")
    try:
        document = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InvalidEvent(f"the value is not JSON: {exc}") from exc
    _check(document)
    try:
        time = datetime.fromisoformat(document["time"])
    except ValueError as exc:  # the pattern admits month 13; the calendar does not
        raise InvalidEvent(f"time is not a date and time: {exc}") from exc
    return Event(
        id=document["id"],
        type=document["type"],
        source=document["source"],
        tenant=document["tenant"],
        aggregate_id=document["partitionkey"],
        time=time,
        schema_version=document["schemaversion"],
        data=document["data"],
    )


def _check(document: object) -> None:
    contracts = registry()
    problems = [error.message for error in contracts.envelope.iter_errors(document)]
    if problems:
        raise InvalidEvent(f"not a shopgraph event: {'; '.join(problems)}")
    assert isinstance(document, dict)
    event_type, version = document["type"], document["schemaversion"]
    try:
        versions = contracts.versions(event_type)
    except UnknownEvent as exc:
        raise InvalidEvent(str(exc)) from exc
    # A version newer than any we know was written by a newer producer; versions only add
    # fields, so our newest contract still describes everything we read from it.
    contract = next((c for c in versions if c.version == version), versions[-1])
    problems = contract.problems(document["data"])
    if problems:
        raise InvalidEvent(f"{event_type} v{version} breaks its contract: {'; '.join(problems)}")
