"""The whole system as real processes (the OIDC provider, five subgraphs, the router) on free
ports, with the demo data loaded; tokens are signed with the provider's own key."""

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from joserfc.jwk import RSAKey

from devstack import tokens
from devstack.oidc.keys import KeyRing
from resolvers.migrations import upgrade
from resolvers.scopes import SHOPPER_SCOPES
from shopgraph import demo_data
from shopgraph.registry import SUBGRAPHS
from shopgraph.system import Ports, System, SystemConfig, running

# Far above what the suite sends: the rate limit has its own routers in test_rate_limit.
GENEROUS_RATE_LIMIT = 100_000


@pytest.fixture(scope="session")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    var: Path = tmp_path_factory.mktemp("var")
    urls = {name: f"sqlite+aiosqlite:///{var / name}.db" for name in SUBGRAPHS}

    async def prepare() -> None:
        for name, url in urls.items():
            await upgrade(name, url)
        await demo_data.seed(urls)

    asyncio.run(prepare())
    config = SystemConfig(
        ports=Ports.free(first_offset=100),
        var=var,
        database_urls=urls,
        default_tenant=None,
        rate_limit=GENEROUS_RATE_LIMIT,
    )
    with running(config) as started:
        yield started


def provider_key(system: System) -> RSAKey:
    return KeyRing(system.config.key_file).signing_key


def mint(system: System, subject: str, *, scopes: tuple[str, ...] = SHOPPER_SCOPES, tenant: str = "demo") -> str:
    """A token as the provider would sign it, for subjects and scopes no demo account has."""
    return tokens.mint(provider_key(system), subject, scopes=scopes, tenant=tenant, issuer=system.config.issuer)


def ask(
    url: str,
    query: str,
    token: str | None = None,
    *,
    variables: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Any:
    sent = dict(headers or {})
    if token is not None:
        sent["Authorization"] = f"Bearer {token}"
    response = httpx.post(url, json={"query": query, "variables": variables or {}}, headers=sent, timeout=30)
    return response.json()
