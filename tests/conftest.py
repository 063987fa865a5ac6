"""Fixtures: real databases (SQLite and PostgreSQL), the five subgraph apps in process, and
tokens signed by a test key whose JWKS the apps fetch over their HTTP client."""

import subprocess
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from joserfc.jwk import RSAKey
from sqlalchemy import delete

from devstack import smtp, tokens
from devstack.broker import Broker
from events.settings import EventSettings
from resolvers.migrations import upgrade
from resolvers.runtime import Runtime
from resolvers.scopes import SERVICES_INTERNAL, SHOPPER_SCOPES
from shopgraph.registry import SUBGRAPHS, app_factory, settings_for, topics
from tests.support.graphql import TENANT, GraphQLClient
from tests.support.kafka import fast_settings, free_port
from tests.support.postgres import migrated_databases
from tests.support.sql import SqlCounter

JWKS_URL = "http://oidc.test/.well-known/jwks.json"


@pytest.fixture(scope="session")
def signing_key() -> RSAKey:
    return tokens.generate_key("test-key")


@pytest.fixture(scope="session")
def token(signing_key: RSAKey) -> Any:
    """``token("alice", scopes=[...], tenant=...)``: a valid access token for a subject; a
    shopper's scopes unless told otherwise."""

    def mint(
        subject: str, *, scopes: tuple[str, ...] | list[str] = SHOPPER_SCOPES, tenant: str = TENANT, **claims: Any
    ) -> str:
        return tokens.mint(signing_key, subject, scopes=scopes, tenant=tenant, **claims)

    return mint


class ServiceTransport(httpx.AsyncBaseTransport):
    """Routes the apps' outgoing HTTP by host: the provider's JWKS and client-credentials
    tokens (signed by the test key), and the other subgraphs in process."""

    def __init__(self, signing_key: RSAKey) -> None:
        self.apps: dict[str, httpx.AsyncBaseTransport] = {}
        self.requests: Counter[str] = Counter()
        self._key = signing_key
        self._jwks = tokens.jwks(signing_key)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests[request.url.host] += 1
        if request.url.host == "oidc.test":
            if request.url.path == "/token":
                service = tokens.mint(self._key, "shopgraph-services", scopes=[SERVICES_INTERNAL], ttl_seconds=300)
                return httpx.Response(200, json={"access_token": service, "token_type": "Bearer", "expires_in": 300})
            return httpx.Response(200, json=self._jwks)
        app = self.apps.get(request.url.host)
        if app is None:
            raise httpx.ConnectError("connection refused", request=request)
        return await app.handle_async_request(request)


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
async def database_urls(backend: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[dict[str, str]]:
    """One migrated database per subgraph, created for this run and dropped after it."""
    if backend == "postgresql":
        async with migrated_databases("test") as urls:
            yield urls
        return
    folder: Path = tmp_path_factory.mktemp("db")
    urls = {name: f"sqlite+aiosqlite:///{folder / name}.db" for name in SUBGRAPHS}
    for name, url in urls.items():
        await upgrade(name, url)
    yield urls


class Stack:
    """The five subgraph apps, running in process on one backend."""

    def __init__(self, apps: dict[str, Any], backend: str, transport: ServiceTransport) -> None:
        self.apps = apps
        self.backend = backend
        self.transport = transport

    def runtime(self, name: str) -> Runtime:
        runtime: Runtime = self.apps[name].state.runtime
        return runtime

    def client(self, name: str) -> GraphQLClient:
        return GraphQLClient(
            httpx.AsyncClient(transport=httpx.ASGITransport(app=self.apps[name]), base_url=f"http://{name}.test")
        )

    def count_sql(self, name: str) -> SqlCounter:
        return SqlCounter(self.runtime(name).engine)

    async def truncate(self) -> None:
        for name in SUBGRAPHS:
            metadata = __import__(f"subgraphs.{name}.tables", fromlist=["Base"]).Base.metadata
            async with self.runtime(name).writer.begin() as session:
                for table in reversed(metadata.sorted_tables):
                    await session.execute(delete(table))


@pytest.fixture(scope="session")
def stripe_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The Stripe test server as its own process, for the whole run."""
    port = free_port()
    log = (tmp_path_factory.mktemp("stripe") / "stripe.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "shopgraph", "devstack", "stripe", "--port", str(port)], stdout=log, stderr=log
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while not _answers(f"{url}/js.stripe.com/v3/"):
        assert process.poll() is None and time.monotonic() < deadline, "the Stripe test server did not start"
        time.sleep(0.1)
    yield url
    process.terminate()
    process.wait(10)
    log.close()


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def subgraph_settings(name: str, database_url: str, stripe_api: str, **overrides: Any) -> Any:
    """A subgraph's settings for the in-process stack: other services by their test hosts."""
    return settings_for(
        name,
        database_url=database_url,
        environment="test",
        jwks_url=JWKS_URL,
        token_url="http://oidc.test/token",
        catalog_url="http://catalog.test",
        carts_url="http://carts.test",
        payments_url="http://payments.test",
        stripe_api_base=stripe_api,
        **overrides,
    )


@pytest.fixture(scope="session")
async def stack_session(
    database_urls: dict[str, str], backend: str, signing_key: RSAKey, stripe_api: str
) -> AsyncIterator[Stack]:
    transport = ServiceTransport(signing_key)
    apps: dict[str, Any] = {}
    async with AsyncExitStack() as exits:
        for name in SUBGRAPHS:
            settings = subgraph_settings(name, database_urls[name], stripe_api)
            app = app_factory(name)(settings, http_transport=transport)
            await exits.enter_async_context(LifespanManager(app))
            apps[name] = app
            transport.apps[f"{name}.test"] = httpx.ASGITransport(app=app)
        yield Stack(apps, backend, transport)


@pytest.fixture
async def stack(stack_session: Stack) -> AsyncIterator[Stack]:
    """The stack with empty tables: each test starts from nothing."""
    yield stack_session
    await stack_session.truncate()


@pytest.fixture
async def broker(tmp_path: Path) -> AsyncIterator[Broker]:
    """A fresh local Kafka with every topic, for one test: nothing carries over between tests."""
    instance = Broker(free_port(), topics(), log=tmp_path / "broker.log")
    await instance.start()
    yield instance
    await instance.stop()


@pytest.fixture
def mail_sink(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    """The SMTP sink for one test: its port, and the Maildir it fills."""
    port, maildir = free_port(), tmp_path / "mail"
    with smtp.running(port, maildir):
        yield port, maildir


@pytest.fixture
def event_settings(broker: Broker) -> EventSettings:
    return fast_settings(broker.bootstrap_servers)
