"""The router's signature on the requests it sends us (Hive Gateway's ``hmacSignature``).

The router puts ``extensions["hmac-signature"]`` on every subgraph request: the base64
HMAC-SHA256, under a secret shared with the subgraphs, of the request's query and variables
serialised as ``json-stable-stringify`` does (keys sorted, no spaces, variables left out when
empty). A request that carries a valid one was built by the router; production answers the
federation internals (``_entities``, ``_service``) only to those, so nobody inside the
network can fetch entities around the router's authorization.
"""

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any, Final

EXTENSION: Final = "hmac-signature"


def signature(secret: str, query: str, variables: Mapping[str, Any] | None) -> str:
    """What the router would sign ``query`` and ``variables`` with."""
    signed: dict[str, Any] = {"query": query}
    if variables:
        signed["variables"] = variables
    # JavaScript's JSON.stringify: no spaces, non-ASCII as is, the same escapes for control
    # characters. Variables hold strings, integers, booleans and nulls, which both print alike.
    payload = json.dumps(signed, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    # A lone surrogate cannot reach here over HTTP (the JSON decoder refuses it); elsewhere it
    # must not crash the check, only fail it.
    digest = hmac.new(secret.encode(), payload.encode(errors="replace"), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def is_signed(secret: str, query: str, variables: Mapping[str, Any] | None, extensions: Mapping[str, Any]) -> bool:
    given = extensions.get(EXTENSION)
    if not isinstance(given, str):
        return False
    return hmac.compare_digest(given.encode(), signature(secret, query, variables).encode())
