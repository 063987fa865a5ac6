"""Access tokens a subgraph presents when it calls another service: OAuth client credentials
from the OIDC provider, fetched once and reused until shortly before they expire."""

import asyncio
import time

import httpx
import structlog

from resolvers.errors import Unavailable

log = structlog.get_logger(__name__)

# A token is renewed this long before it expires, so none expires on its way to the service.
RENEW_BEFORE_SECONDS = 30.0


class ServiceTokens:
    def __init__(
        self, http: httpx.AsyncClient, *, token_url: str, client_id: str, client_secret: str, scope: str
    ) -> None:
        self._http = http
        self._token_url = token_url
        self._credentials = (client_id, client_secret)
        self._scope = scope
        self._token: str | None = None
        self._renew_at = 0.0
        self._fetching = asyncio.Lock()

    async def authorization(self) -> str:
        """The ``Authorization`` header value; one fetch however many calls wait for it."""
        if self._token is None or time.monotonic() >= self._renew_at:
            async with self._fetching:
                if self._token is None or time.monotonic() >= self._renew_at:
                    await self._fetch()
        return f"Bearer {self._token}"

    def forget(self) -> None:
        """Drops the cached token after a service refused it (the provider rotated its keys)."""
        self._token = None

    async def _fetch(self) -> None:
        try:
            response = await self._http.post(
                self._token_url,
                data={"grant_type": "client_credentials", "scope": self._scope},
                auth=self._credentials,
                timeout=5.0,
            )
            response.raise_for_status()
            body = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            log.warning("service token fetch failed", url=self._token_url, error=str(exc))
            raise Unavailable("The identity provider is not answering; try again shortly.") from exc
        self._token = str(body["access_token"])
        lifetime = float(body.get("expires_in", 300))
        self._renew_at = time.monotonic() + max(lifetime - RENEW_BEFORE_SECONDS, lifetime / 2)
