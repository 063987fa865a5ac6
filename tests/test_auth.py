"""Access tokens: what the subgraphs accept and what they refuse."""

import asyncio
from typing import Any

import httpx
import pytest
from joserfc.jwk import RSAKey

from devstack import tokens
from resolvers.auth import TokenVerifier
from resolvers.errors import Unauthenticated, Unavailable
from tests.support.forged import FORGERIES, Forgery


def verifier_for(*keys: RSAKey) -> tuple[TokenVerifier, list[int]]:
    """A verifier whose JWKS holds ``keys``; the list counts JWKS fetches."""
    fetches: list[int] = []

    def handler(_request: httpx.Request) -> httpx.Response:
        fetches.append(1)
        return httpx.Response(200, json={"keys": [key.as_dict(private=False) for key in keys]})

    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    return TokenVerifier(
        jwks_url="http://oidc.test/jwks", issuer=tokens.ISSUER, audience=tokens.AUDIENCE, http=http
    ), fetches


@pytest.fixture(scope="module")
def key() -> RSAKey:
    return tokens.generate_key("main")


async def test_a_valid_token_names_the_caller_scopes_and_tenant(key: RSAKey) -> None:
    verifier, _ = verifier_for(key)

    caller = await verifier.verify(tokens.mint(key, "ada", scopes=["orders:read", "carts:write"], tenant="acme"))

    assert (caller.subject, caller.tenant) == ("ada", "acme")
    assert caller.scopes == {"orders:read", "carts:write"}


@pytest.mark.parametrize("forge", FORGERIES)
async def test_bad_tokens_are_refused(key: RSAKey, forge: Forgery) -> None:
    verifier, _ = verifier_for(key)

    with pytest.raises(Unauthenticated):
        await verifier.verify(forge(key, tokens.ISSUER))


async def test_keys_are_cached_and_refetched_once_for_a_new_kid(key: RSAKey) -> None:
    rotated = tokens.generate_key("rotated")
    keys = [key]

    def handler(_request: httpx.Request) -> httpx.Response:
        fetches.append(1)
        return httpx.Response(200, json={"keys": [k.as_dict(private=False) for k in keys]})

    fetches: list[int] = []
    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    verifier = TokenVerifier(
        jwks_url="http://oidc.test/jwks", issuer=tokens.ISSUER, audience=tokens.AUDIENCE, http=http
    )

    # Given a verifier that has fetched the keys once
    for _ in range(3):
        await verifier.verify(tokens.mint(key, "ada"))
    assert len(fetches) == 1

    # When the provider rotates in a new key after the refresh interval
    keys.append(rotated)
    verifier._attempted_at -= 60  # the last fetch is a minute old
    await verifier.verify(tokens.mint(rotated, "ada"))

    # Then the new kid costs one fetch, and forged kids right after cost none
    assert len(fetches) == 2
    for forged in ("forged-1", "forged-2"):
        with pytest.raises(Unauthenticated):
            await verifier.verify(tokens.mint(tokens.generate_key(forged), "ada"))
    assert len(fetches) == 2


async def test_concurrent_first_requests_share_one_fetch(key: RSAKey) -> None:
    fetches: list[int] = []

    async def slow_provider(_request: httpx.Request) -> httpx.Response:
        fetches.append(1)
        await asyncio.sleep(0.05)  # the other requests arrive while this fetch is in flight
        return httpx.Response(200, json={"keys": [key.as_dict(private=False)]})

    http = httpx.AsyncClient(transport=httpx.MockTransport(slow_provider))
    verifier = TokenVerifier(
        jwks_url="http://oidc.test/jwks", issuer=tokens.ISSUER, audience=tokens.AUDIENCE, http=http
    )

    await asyncio.gather(*(verifier.verify(tokens.mint(key, "ada")) for _ in range(20)))

    assert len(fetches) == 1


async def test_an_unreachable_provider_is_unavailable_and_asked_once_per_interval(key: RSAKey) -> None:
    attempts: list[int] = []

    async def down(request: httpx.Request) -> httpx.Response:
        attempts.append(1)
        await asyncio.sleep(0.05)
        raise httpx.ConnectError("connection refused", request=request)

    http = httpx.AsyncClient(transport=httpx.MockTransport(down))
    verifier = TokenVerifier(
        jwks_url="http://oidc.test/jwks", issuer=tokens.ISSUER, audience=tokens.AUDIENCE, http=http
    )

    results = await asyncio.gather(
        *(verifier.verify(tokens.mint(key, "ada")) for _ in range(10)), return_exceptions=True
    )

    assert all(isinstance(result, Unavailable) for result in results)
    assert len(attempts) == 1


async def test_a_malformed_authorization_header_is_unauthenticated(stack: Any) -> None:
    client = stack.client("users")
    response = await client.http.post(
        "/graphql", json={"query": "{ me { id } }"}, headers={"Authorization": "Basic abc", "X-Tenant-Id": "acme"}
    )

    assert response.status_code == 200
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_an_expired_token_at_a_subgraph_is_unauthenticated(stack: Any, signing_key: RSAKey) -> None:
    expired = tokens.mint(signing_key, "ada", ttl_seconds=-300)

    body = await stack.client("catalog")("{ products { totalCount } }", token=expired)

    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
