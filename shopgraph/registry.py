"""The five subgraphs by name, for the command line and the tests. Subgraphs never import
each other; only this top-level wiring knows them all."""

import importlib
from typing import Any, Protocol

import httpx
from fastapi import FastAPI

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
