"""RSA signing keys and access tokens shaped like the provider's (RFC 9068), for tests that
need tokens the provider would never issue: other tenants, odd scopes, broken claims."""

import time
import uuid
from collections.abc import Iterable
from typing import Any

from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

ISSUER = "http://127.0.0.1:4010"
AUDIENCE = "shopgraph"


def generate_key(kid: str | None = None) -> RSAKey:
    return RSAKey.generate_key(
        2048, parameters={"kid": kid or uuid.uuid4().hex[:12], "use": "sig", "alg": "RS256"}, private=True
    )


def jwks(key: RSAKey) -> dict[str, Any]:
    return dict(KeySet([key]).as_dict(private=False))


def mint(
    key: RSAKey,
    subject: str,
    *,
    scopes: Iterable[str] = (),
    tenant: str | None = None,
    issuer: str = ISSUER,
    audience: str = AUDIENCE,
    ttl_seconds: int = 3600,
    **claims: Any,
) -> str:
    now = int(time.time())
    payload: dict[str, Any] = {
        "iss": issuer,
        "aud": audience,
        "sub": subject,
        "iat": now,
        "nbf": now,
        "exp": now + ttl_seconds,
        "jti": uuid.uuid4().hex,
        "scope": " ".join(scopes),
        **claims,
    }
    if tenant is not None:
        payload["tenant"] = tenant
    return jwt.encode({"alg": "RS256", "kid": key.kid, "typ": "at+jwt"}, payload, key)
