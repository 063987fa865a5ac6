"""The whole system as real processes (the OIDC provider, five subgraphs, the router) on free
ports, with the demo data loaded; tokens are signed with the provider's own key."""

import asyncio
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import httpx2
import pytest
from authlib.common.security import generate_token
from authlib.integrations.httpx_client import AsyncOAuth2Client
from joserfc.jwk import RSAKey

from devstack import tokens
from devstack.oidc.keys import KeyRing
from resolvers.migrations import upgrade
from resolvers.scopes import SHOPPER_SCOPES
from shopgraph import demo_data
from shopgraph.registry import SUBGRAPHS
from shopgraph.system import Ports, System, SystemConfig, running

REDIRECT_URI = "http://127.0.0.1/callback"
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


async def sign_in(system: System, username: str, password: str, scope: str) -> dict[str, str]:
    """The flow a native app runs: Authlib's client makes the S256 challenge and redeems the code;
    the "browser" is a plain HTTP client posting the provider's login form."""
    issuer = system.config.issuer
    oauth = AsyncOAuth2Client("shopgraph-cli", redirect_uri=REDIRECT_URI, scope=scope, code_challenge_method="S256")
    verifier = generate_token(64)
    url, state = oauth.create_authorization_url(f"{issuer}/authorize", code_verifier=verifier)
    async with httpx2.AsyncClient() as browser:
        page = await browser.get(url)
        assert page.status_code == 200 and "<form" in page.text
        request = {key: values[0] for key, values in parse_qs(urlparse(url).query).items()}
        answer = await browser.post(f"{issuer}/authorize", data=request | {"username": username, "password": password})
    assert answer.status_code == 302, answer.text
    callback = answer.headers["location"]
    assert parse_qs(urlparse(callback).query)["state"] == [state]
    async with oauth:
        token: dict[str, str] = await oauth.fetch_token(
            f"{issuer}/token", authorization_response=callback, code_verifier=verifier
        )
    return token


def until(probe: Callable[[], Any], done: Callable[[Any], bool], *, within: float = 60.0) -> Any:
    deadline = time.monotonic() + within
    while True:
        answer = probe()
        if done(answer) or time.monotonic() > deadline:
            return answer
        time.sleep(0.2)
