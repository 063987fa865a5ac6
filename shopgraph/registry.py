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


def handlers(name: str) -> Mapping[str, Handler]:
    """The events a subgraph consumes, from its ``handlers`` module; none without one."""
    if importlib.util.find_spec(f"subgraphs.{name}.handlers") is None:
        return {}
    found: Mapping[str, Handler] = importlib.import_module(f"subgraphs.{name}.handlers").HANDLERS
    return found


def topics() -> list[str]:
    """Every topic the system uses: one per event type, one dead-letter topic per consumer."""
    return [*registry().types(), *(dead_letter_topic(name) for name in SUBGRAPHS if handlers(name))]
