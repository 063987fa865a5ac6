"""Tokens an attacker or a confused client might send, each one refused wherever it arrives.

Each forgery takes the provider's real signing key (so the signature is the only thing wrong,
or nothing but the one claim) and the issuer the receiver trusts.
"""

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey

from devstack import tokens

Forgery = Callable[[RSAKey, str], str]


def _part(value: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()


def claims(issuer: str, **overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    base = {"iss": issuer, "aud": tokens.AUDIENCE, "sub": "ada", "tenant": "demo", "exp": now + 300, "iat": now}
    return base | overrides


def _unsigned(key: RSAKey, issuer: str) -> str:
    return f"{_part({'alg': 'none', 'typ': 'at+jwt', 'kid': key.kid})}.{_part(claims(issuer))}."


def _hs256_with_public_key(key: RSAKey, issuer: str) -> str:
    """The classic confusion attack: HMAC keyed with the RSA public key's PEM."""
    signing_input = f"{_part({'alg': 'HS256', 'typ': 'at+jwt', 'kid': key.kid})}.{_part(claims(issuer))}"
    mac = hmac.new(key.as_pem(private=False), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"


def _tampered(key: RSAKey, issuer: str) -> str:
    header, payload, signature = tokens.mint(key, "ada", tenant="demo", issuer=issuer, scopes=["orders:read"]).split(
        "."
    )
    grown = json.loads(base64.urlsafe_b64decode(payload + "==")) | {"scope": "orders:read orders:admin"}
    return f"{header}.{_part(grown)}.{signature}"


def _id_token(key: RSAKey, issuer: str) -> str:
    """What the provider issues beside the access token: same key, same issuer, typ JWT."""
    return jwt.encode({"alg": "RS256", "typ": "JWT", "kid": key.kid}, claims(issuer), key)


def _mint(**options: Any) -> Forgery:
    return lambda key, issuer: tokens.mint(key, "ada", tenant="demo", **({"issuer": issuer} | options))


FORGERIES = [
    pytest.param(_mint(ttl_seconds=-120), id="expired"),
    pytest.param(_mint(nbf=int(time.time()) + 600), id="not-yet-valid"),
    pytest.param(_mint(audience="someone-else"), id="wrong-audience"),
    pytest.param(_mint(issuer="http://evil.test"), id="wrong-issuer"),
    pytest.param(
        lambda key, issuer: tokens.mint(tokens.generate_key("unknown"), "ada", issuer=issuer), id="unknown-kid"
    ),
    pytest.param(
        lambda key, issuer: tokens.mint(tokens.generate_key(key.kid), "ada", issuer=issuer), id="another-key-same-kid"
    ),
    pytest.param(_unsigned, id="alg-none"),
    pytest.param(_hs256_with_public_key, id="hs256-with-public-key"),
    pytest.param(_tampered, id="tampered-payload"),
    pytest.param(_id_token, id="id-token-as-access-token"),
    pytest.param(
        lambda key, issuer: jwt.encode(
            {"alg": "RS256", "typ": "at+jwt", "kid": key.kid},
            {k: v for k, v in claims(issuer).items() if k != "exp"},
            key,
        ),
        id="no-expiry",
    ),
    pytest.param(lambda key, issuer: "not.a.token", id="garbage"),
]
