"""A development signing key and the access tokens it signs.

Until the local OIDC provider exists, ``make run`` serves this key's JWKS on the provider's
port and prints a token for the demo user; tests mint their own tokens with a fresh key.
"""

import json
import time
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

ISSUER = "http://127.0.0.1:4010"
AUDIENCE = "shopgraph"


def generate_key(kid: str | None = None) -> RSAKey:
    return RSAKey.generate_key(
        2048, parameters={"kid": kid or uuid.uuid4().hex[:12], "use": "sig", "alg": "RS256"}, private=True
    )


def load_or_create_key(path: Path) -> RSAKey:
    """The key ``make run`` signs with, kept under var/ so printed tokens survive restarts."""
    if path.exists():
        return RSAKey.import_key(json.loads(path.read_text()))
    key = generate_key()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(key.as_dict(private=True)))
    path.chmod(0o600)
    return key


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
