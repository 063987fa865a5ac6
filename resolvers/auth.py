"""Who is calling: bearer JWTs verified against the OIDC provider's JWKS.

A missing token leaves the caller anonymous; a token that is present but wrong in any way
(signature, algorithm, issuer, audience, time) is refused, never downgraded to anonymous.
"""

import asyncio
import time
from dataclasses import dataclass, field

import httpx
import structlog
from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from resolvers.errors import Unauthenticated, Unavailable

log = structlog.get_logger(__name__)

ALGORITHM = "RS256"
# RFC 9068: access tokens say so in their header; an ID token (typ JWT) is not an access token
# even when its signature, issuer and audience would pass.
ACCESS_TOKEN_TYPES = frozenset({"at+jwt", "application/at+jwt"})
LEEWAY_SECONDS = 30
# An unknown `kid` triggers a JWKS refetch (the provider may have rotated keys), but at most
# this often, so a stream of forged kids cannot turn us into a flood against the provider.
MIN_REFRESH_INTERVAL_SECONDS = 10.0


@dataclass(frozen=True, slots=True)
class Caller:
    """The verified subject of a request; ``subject`` is None for anonymous callers."""

    subject: str | None = None
    scopes: frozenset[str] = field(default_factory=frozenset)
    tenant: str | None = None
    email: str | None = None
    name: str | None = None
    # When the token stops being good (seconds since the epoch): a subscription ends then.
    expires_at: float | None = None

    @property
    def is_authenticated(self) -> bool:
        return self.subject is not None

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes

    def owns_or_holds(self, owner_id: str, scope: str) -> bool:
        """The object rule: an object is its owner's, or visible to whoever holds ``scope``."""
        return self.subject == owner_id or self.has_scope(scope)


ANONYMOUS = Caller()


class TokenVerifier:
    """Verifies access tokens; one per process, holding the cached JWKS."""

    def __init__(self, *, jwks_url: str, issuer: str, audience: str, http: httpx.AsyncClient) -> None:
        self._jwks_url = jwks_url
        self._http = http
        self._keys: KeySet | None = None
        self._attempts = 0
        self._attempted_at = -MIN_REFRESH_INTERVAL_SECONDS
        self._refreshing = asyncio.Lock()
        self._claims = jwt.JWTClaimsRegistry(
            leeway=LEEWAY_SECONDS,
            iss={"essential": True, "value": issuer},
            aud={"essential": True, "value": audience},
            exp={"essential": True},
            sub={"essential": True},
        )

    async def caller_from_header(self, authorization: str | None) -> Caller:
        if not authorization:
            return ANONYMOUS
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthenticated("The Authorization header must be 'Bearer <access token>'.")
        return await self.verify(token.strip())

    async def verify(self, token: str) -> Caller:
        try:
            header = jws.extract_compact(token.encode()).protected
        except (JoseError, ValueError) as exc:
            raise Unauthenticated("The access token is malformed.") from exc
        if header.get("alg") != ALGORITHM:
            raise Unauthenticated(f"The access token must be signed with {ALGORITHM}.")
        if str(header.get("typ", "")).lower() not in ACCESS_TOKEN_TYPES:
            raise Unauthenticated("This is not an access token (its typ must be at+jwt).")
        keys = await self._keys_for(str(header.get("kid", "")))
        try:
            claims = jwt.decode(token, keys, algorithms=[ALGORITHM]).claims
            self._claims.validate(claims)
        except (JoseError, ValueError) as exc:
            raise Unauthenticated(f"The access token is not valid: {exc}.") from exc
        scope = claims.get("scope", "")
        tenant = claims.get("tenant")
        return Caller(
            subject=str(claims["sub"]),
            scopes=frozenset(scope.split()) if isinstance(scope, str) else frozenset(),
            tenant=str(tenant) if tenant is not None else None,
            email=claims.get("email"),
            name=claims.get("name"),
            expires_at=float(claims["exp"]),
        )

    async def _keys_for(self, kid: str) -> KeySet:
        if self._keys is None or not _has_kid(self._keys, kid):
            attempts_seen = self._attempts
            # One fetch at a time, and none for requests that waited while another fetched:
            # a burst at start-up, after a rotation or during an outage costs one request to
            # the provider, and attempts (failed ones too) are spaced by the refresh interval.
            async with self._refreshing:
                stale = time.monotonic() - self._attempted_at > MIN_REFRESH_INTERVAL_SECONDS
                if self._attempts == attempts_seen and stale:
                    await self._refresh()
        if self._keys is None:
            # The token may be fine; we cannot tell yet. Clients should retry, not sign out.
            raise Unavailable("Access tokens cannot be verified right now; try again shortly.")
        if not _has_kid(self._keys, kid):
            raise Unauthenticated("The access token was signed by an unknown key.")
        return self._keys

    async def _refresh(self) -> None:
        self._attempts += 1
        self._attempted_at = time.monotonic()
        try:
            response = await self._http.get(self._jwks_url, timeout=5.0)
            response.raise_for_status()
            self._keys = KeySet.import_key_set(response.json())
        except (httpx.HTTPError, ValueError, JoseError) as exc:
            log.warning("jwks fetch failed", url=self._jwks_url, error=str(exc))


def _has_kid(keys: KeySet, kid: str) -> bool:
    return any(key.kid == kid for key in keys.keys)
