"""The five subgraphs by name, for the command line and the tests. Subgraphs never import
each other; only this top-level wiring knows them all."""

import importlib
import importlib.util
from collections.abc import Mapping
from typing import Any, Protocol

import httpx
from fastapi import FastAPI

from events.consumer import Handler
from events.contracts import registry
from events.settings import dead_letter_topic
from events.store import EventStore
from events.worker import MakeJobs
from resolvers.settings import SubgraphSettings

SUBGRAPHS = ("catalog", "users", "carts", "orders", "payments")


class AppFactory(Protocol):
    def __call__(self, settings: Any, *, http_transport: httpx.AsyncBaseTransport | None = None) -> FastAPI: ...


def settings_for(name: str, **overrides: Any) -> SubgraphSettings:
    module = importlib.import_module(f"subgraphs.{name}.settings")
    settings_class: type[SubgraphSettings] = getattr(module, f"{name.capitalize()}Settings")
    return settings_class(**overrides)


def app_factory(name: str) -> AppFactory:
    factory: AppFactory = importlib.import_module(f"subgraphs.{name}.app").create_app
    return factory


def event_store(name: str) -> EventStore:
    store: EventStore = importlib.import_module(f"subgraphs.{name}.tables").EVENTS
    return store


def handlers(name: str, settings: SubgraphSettings | None = None) -> Mapping[str, Handler]:
    """The events a subgraph consumes, from its ``handlers`` module (its ``HANDLERS``, or
    ``make_handlers(settings)`` when they need the subgraph's settings); none without one."""
    if importlib.util.find_spec(f"subgraphs.{name}.handlers") is None:
        return {}
    module = importlib.import_module(f"subgraphs.{name}.handlers")
    if hasattr(module, "make_handlers"):
        made: Mapping[str, Handler] = module.make_handlers(settings or settings_for(name))
        return made
    found: Mapping[str, Handler] = module.HANDLERS
    return found


def jobs(name: str, settings: SubgraphSettings) -> MakeJobs | None:
    """The periodic jobs of a subgraph's worker, from its ``jobs`` module; none without one."""
    if importlib.util.find_spec(f"subgraphs.{name}.jobs") is None:
        return None
    make = importlib.import_module(f"subgraphs.{name}.jobs").jobs
    return lambda engine: make(settings, engine)


def streams_events(name: str) -> bool:
    """Whether a subgraph serves subscriptions (a ``subscriptions`` module), and so reads
    Kafka in its server process too."""
    return importlib.util.find_spec(f"subgraphs.{name}.subscriptions") is not None


def topics() -> list[str]:
    """Every topic the system uses: one per event type, one dead-letter topic per consumer."""
    return [*registry().types(), *(dead_letter_topic(name) for name in SUBGRAPHS if handlers(name))]
