"""Access tokens: what the subgraphs accept and what they refuse."""

import asyncio
import base64
import hashlib
import hmac
import json
import time
from typing import Any

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey

from devstack import tokens
from resolvers.auth import TokenVerifier
from resolvers.errors import Unauthenticated, Unavailable


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


def _part(value: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()


def _unsigned(claims: dict[str, Any]) -> str:
    return f"{_part({'alg': 'none', 'kid': 'main'})}.{_part(claims)}."


def _hs256_with_public_key(key: RSAKey, claims: dict[str, Any]) -> str:
    """The classic confusion attack: HMAC keyed with the RSA public key's PEM."""
    signing_input = f"{_part({'alg': 'HS256', 'kid': 'main'})}.{_part(claims)}"
    mac = hmac.new(key.as_pem(private=False), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"


def _claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    return {"iss": tokens.ISSUER, "aud": tokens.AUDIENCE, "sub": "ada", "exp": now + 300, "iat": now, **overrides}


@pytest.mark.parametrize(
    "forge",
    [
        pytest.param(lambda key: tokens.mint(key, "ada", ttl_seconds=-120), id="expired"),
        pytest.param(lambda key: tokens.mint(key, "ada", audience="someone-else"), id="wrong-audience"),
        pytest.param(lambda key: tokens.mint(key, "ada", issuer="http://evil.test"), id="wrong-issuer"),
        pytest.param(lambda key: tokens.mint(tokens.generate_key("main"), "ada"), id="signed-by-another-key-same-kid"),
        pytest.param(lambda key: tokens.mint(tokens.generate_key("unknown"), "ada"), id="unknown-kid"),
        pytest.param(lambda key: _unsigned(_claims()), id="alg-none"),
        pytest.param(lambda key: _hs256_with_public_key(key, _claims()), id="hs256-with-public-key"),
        pytest.param(lambda key: tokens.mint(key, "ada", nbf=int(time.time()) + 600), id="not-yet-valid"),
        pytest.param(
            lambda key: jwt.encode(
                {"alg": "RS256", "kid": "main"}, {k: v for k, v in _claims().items() if k != "exp"}, key
            ),
            id="no-expiry",
        ),
        pytest.param(lambda key: "not.a.token", id="garbage"),
    ],
)
async def test_bad_tokens_are_refused(key: RSAKey, forge: Any) -> None:
    verifier, _ = verifier_for(key)

    with pytest.raises(Unauthenticated):
        await verifier.verify(forge(key))


async def test_a_tampered_payload_is_refused(key: RSAKey) -> None:
    verifier, _ = verifier_for(key)
    header, payload, signature = tokens.mint(key, "ada", scopes=["orders:read"]).split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["scope"] = "orders:admin"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()

    with pytest.raises(Unauthenticated):
        await verifier.verify(f"{header}.{forged}.{signature}")


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
