"""Calls from one subgraph to another's internal endpoints (``/internal/v1/...``).

Each call carries a client-credentials token and the tenant, waits at most ``timeout`` per
attempt, and is retried with jittered exponential backoff when the network fails or the
service answers 5xx: every internal endpoint is idempotent, so a retry never does twice what
the first attempt did. Around the retries sits a circuit breaker per service: after
``breaker_threshold`` failed calls in a row it opens, and for ``breaker_seconds`` calls fail
at once with SERVICE_UNAVAILABLE instead of each waiting out its own timeouts.

A refusal the service explains (problem+json with a ``code``) is raised here as the same
error, so a domain refusal in the catalog reaches the storefront with its own code; it
neither counts against the breaker nor is retried.
"""

import asyncio
from typing import Any

import httpx
import stamina
import structlog
from purgatory import AsyncCircuitBreakerFactory
from purgatory.domain.model import OpenedState

from resolvers.errors import ShopgraphError, Unavailable, error_for
from resolvers.service_tokens import ServiceTokens

log = structlog.get_logger(__name__)


class _Refused(Exception):
    """The token was refused: fetched again once, then retried."""


def _retryable(exc: Exception) -> bool:
    if isinstance(exc, httpx.HTTPStatusError):
        return exc.response.status_code >= 500
    return isinstance(exc, httpx.TransportError | _Refused)


class ServiceClient:
    def __init__(
        self,
        name: str,
        base_url: str,
        *,
        http: httpx.AsyncClient,
        tokens: ServiceTokens,
        breakers: AsyncCircuitBreakerFactory,
        timeout: float,
        attempts: int = 3,
    ) -> None:
        self.name = name
        self._base = base_url.rstrip("/")
        self._http = http
        self._tokens = tokens
        self._breakers = breakers
        self._timeout = timeout
        self._attempts = attempts

    async def call(
        self,
        method: str,
        path: str,
        *,
        tenant: str,
        json: dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
    ) -> Any:
        """The decoded JSON body of a 2xx answer; the service's own error for a problem it
        explains; SERVICE_UNAVAILABLE when it cannot be reached or keeps failing."""
        try:
            # A refusal the service explains, or our own caller going away, is no sign of failure.
            breaker = await self._breakers.get_breaker(self.name, exclude=[ShopgraphError, asyncio.CancelledError])
            async with breaker:
                return await self._with_retries(method, path, tenant=tenant, json=json, params=params)
        except OpenedState as exc:
            raise Unavailable(f"The {self.name} service is failing; try again shortly.", service=self.name) from exc
        except (httpx.HTTPError, _Refused) as exc:
            log.warning("service call failed", service=self.name, path=path, error=repr(exc))
            raise Unavailable(
                f"The {self.name} service is not answering; try again shortly.", service=self.name
            ) from exc

    async def _with_retries(
        self, method: str, path: str, *, tenant: str, json: dict[str, Any] | None, params: dict[str, Any] | None
    ) -> Any:
        async for attempt in stamina.retry_context(
            on=_retryable, attempts=self._attempts, wait_initial=0.05, wait_max=0.5, timeout=self._timeout * 3
        ):
            with attempt:
                response = await self._http.request(
                    method,
                    f"{self._base}{path}",
                    json=json,
                    params=params,
                    headers={"Authorization": await self._tokens.authorization(), "X-Tenant-Id": tenant},
                    timeout=self._timeout,
                )
                if response.status_code == 401:
                    self._tokens.forget()
                    raise _Refused(response.text)
                if response.status_code >= 500:
                    response.raise_for_status()
        if response.is_success:
            return response.json()
        raise _explained(response)


def _explained(response: httpx.Response) -> ShopgraphError:
    """The error a 4xx problem+json names by its ``code``; a 4xx without one, or a refusal
    of our own credentials, is our bug and nothing the caller can fix."""
    try:
        problem = response.json()
    except ValueError:
        problem = {}
    code = problem.get("code") if isinstance(problem, dict) else None
    if not isinstance(code, str) or response.status_code == 403:
        log.error("service refused a call", status=response.status_code, code=code)
        return Unavailable("A service refused our call; try again shortly.")
    extensions = {k: v for k, v in problem.items() if k not in {"type", "title", "status", "detail", "code"}}
    return error_for(code, str(problem.get("detail", "")), **extensions)
