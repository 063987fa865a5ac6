"""Signing in at the local OIDC provider and using the token through the router: the PKCE flow
with an ordinary OAuth client, the CLI's token command, and every token the router refuses."""

import os
import subprocess
import sys
from urllib.parse import parse_qs, urlparse

import httpx2
import pytest
from authlib.common.security import generate_token
from authlib.integrations.httpx_client import AsyncOAuth2Client

from devstack.oidc.keys import KeyRing
from shopgraph.system import System
from tests.e2e.conftest import REDIRECT_URI, ask, mint, provider_key, sign_in
from tests.support.forged import FORGERIES, Forgery

pytestmark = pytest.mark.e2e

ME = "{ me { id name } users(first: 1) { totalCount } }"


async def test_the_pkce_flow_gives_a_token_the_router_accepts(system: System) -> None:
    token = await sign_in(system, "shopper", "shopper", "openid users:read orders:read users:admin")

    # The shopper asked for users:admin too; the provider grants only what the account holds.
    assert token["scope"].split() == ["openid", "users:read", "orders:read"]
    assert "id_token" in token and "refresh_token" in token
    body = ask(system.config.router_url, ME, token["access_token"])

    assert body["data"]["me"] == {"id": "demo-shopper", "name": "Dana Demo"}
    assert body["data"]["users"] is None
    assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"]


async def test_a_refresh_token_gives_a_new_access_token_once(system: System) -> None:
    token = await sign_in(system, "admin", "admin", "openid users:admin")
    issuer = system.config.issuer
    async with httpx2.AsyncClient() as http:
        form = {"grant_type": "refresh_token", "refresh_token": token["refresh_token"], "client_id": "shopgraph-cli"}
        refreshed = await http.post(f"{issuer}/token", data=form)
        replayed = await http.post(f"{issuer}/token", data=form)

    assert refreshed.status_code == 200
    assert refreshed.json()["access_token"] != token["access_token"]
    assert replayed.status_code == 400 and replayed.json()["error"] == "invalid_grant"
    body = ask(system.config.router_url, "{ users(first: 1) { totalCount } }", refreshed.json()["access_token"])
    assert body["data"]["users"]["totalCount"] >= 1


@pytest.mark.parametrize(
    ("pkce", "reason"),
    [
        ({}, "PKCE is required"),
        ({"code_challenge": "a" * 43, "code_challenge_method": "plain"}, "Only code_challenge_method=S256"),
        ({"code_challenge": "a" * 43}, "Only code_challenge_method=S256"),
    ],
    ids=["no-challenge", "plain", "method-missing"],
)
def test_an_authorization_request_without_s256_pkce_is_refused(
    system: System, pkce: dict[str, str], reason: str
) -> None:
    params = {"response_type": "code", "client_id": "storefront", "redirect_uri": "http://127.0.0.1:3000/callback"}
    response = httpx2.get(f"{system.config.issuer}/authorize", params=params | pkce)

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request" and reason in response.json()["error_description"]


def test_a_code_is_redeemed_only_with_its_verifier(system: System) -> None:
    issuer = system.config.issuer
    oauth = AsyncOAuth2Client("shopgraph-cli", redirect_uri=REDIRECT_URI, code_challenge_method="S256")
    url, _ = oauth.create_authorization_url(f"{issuer}/authorize", code_verifier=generate_token(64))
    request = {key: values[0] for key, values in parse_qs(urlparse(url).query).items()}
    answer = httpx2.post(f"{issuer}/authorize", data=request | {"username": "shopper", "password": "shopper"})
    code = parse_qs(urlparse(answer.headers["location"]).query)["code"][0]

    stolen = httpx2.post(
        f"{issuer}/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "client_id": "shopgraph-cli",
            "code_verifier": generate_token(64),
        },
    )

    assert stolen.status_code == 400 and stolen.json()["error"] == "invalid_grant"


def test_a_wrong_password_gets_the_login_page_again_and_no_code(system: System) -> None:
    oauth = AsyncOAuth2Client("shopgraph-cli", redirect_uri=REDIRECT_URI, code_challenge_method="S256")
    url, _ = oauth.create_authorization_url(f"{system.config.issuer}/authorize", code_verifier=generate_token(64))
    request = {key: values[0] for key, values in parse_qs(urlparse(url).query).items()}

    guess = "guess-9f2c41"
    answer = httpx2.post(f"{system.config.issuer}/authorize", data=request | {"username": "shopper", "password": guess})

    assert answer.status_code == 401 and "location" not in answer.headers
    assert "wrong password" in answer.text and guess not in answer.text


def test_the_cli_prints_a_token_for_the_partner_scoped_to_its_tenant(system: System) -> None:
    printed = subprocess.run(
        [sys.executable, "-m", "shopgraph", "token", "partner", "--issuer", system.config.issuer],
        env={**os.environ, "SHOPGRAPH_PASSWORD": "partner"},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout.strip()

    # The partner's store is acme: the demo store's data stays out of reach.
    acme = ask(system.config.router_url, "{ products(first: 1) { totalCount } }", printed)
    demo = ask(
        system.config.router_url, "{ products(first: 1) { totalCount } }", printed, headers={"X-Tenant-Id": "demo"}
    )

    assert acme["data"]["products"]["totalCount"] == 0
    assert [e["extensions"]["code"] for e in demo["errors"]] == ["FORBIDDEN"]


@pytest.mark.parametrize("forge", FORGERIES)
def test_the_router_refuses_bad_tokens(system: System, forge: Forgery) -> None:
    body = ask(system.config.router_url, ME, forge(provider_key(system), system.config.issuer))

    assert body.get("data") is None
    assert [e["extensions"]["code"] for e in body["errors"]] == ["UNAUTHENTICATED"]


def test_after_a_key_rotation_old_and_new_tokens_both_work(system: System) -> None:
    before = mint(system, "demo-shopper")
    rotated = KeyRing(system.config.key_file).rotate()
    after = mint(system, "demo-shopper")

    assert provider_key(system).kid == rotated.kid
    for token in (before, after):
        body = ask(system.config.router_url, "{ me { id } }", token)
        assert body == {"data": {"me": {"id": "demo-shopper"}}}
