"""What carts asks the catalog: current price, status and availability of products.

Calls go to the catalog's internal endpoint with a timeout and a few jittered retries on
transport failures and 5xx. When the catalog stays unreachable the caller gets
SERVICE_UNAVAILABLE; any other refusal is our own bug and surfaces as one.
"""

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx
import stamina

from resolvers.errors import Unavailable
from resolvers.money import Money

# The catalog answers at most 200 ids per call; larger batches are split.
IDS_PER_CALL = 100


@dataclass(frozen=True, slots=True)
class CatalogProduct:
    id: str
    name: str
    active: bool
    price: Money
    available: int


def _retryable(exc: Exception) -> bool:
    if isinstance(exc, httpx.HTTPStatusError):
        return exc.response.status_code >= 500
    return isinstance(exc, httpx.TransportError)


class CatalogClient:
    def __init__(self, http: httpx.AsyncClient, base_url: str, *, timeout: float) -> None:
        self._http = http
        self._url = f"{base_url.rstrip('/')}/internal/v1/products"
        self._timeout = timeout

    async def products(self, tenant: str, ids: Sequence[str]) -> dict[str, CatalogProduct]:
        """The products among ``ids`` that the tenant has; unknown ids are simply absent."""
        unique = list(dict.fromkeys(ids))
        chunks = [unique[start : start + IDS_PER_CALL] for start in range(0, len(unique), IDS_PER_CALL)]
        try:
            bodies = await asyncio.gather(*(self._fetch(tenant, chunk) for chunk in chunks))
        except httpx.HTTPError as exc:
            if isinstance(exc, httpx.HTTPStatusError) and exc.response.status_code < 500:
                raise
            raise Unavailable("The catalog is not answering; try again shortly.") from exc
        return {
            item["id"]: CatalogProduct(
                id=item["id"],
                name=item["name"],
                active=item["active"],
                price=Money.of(item["price"]["amount"], item["price"]["currency"]),
                available=item["available"],
            )
            for body in bodies
            for item in body["products"]
        }

    @stamina.retry(on=_retryable, attempts=3, wait_initial=0.05, wait_max=0.5, timeout=5.0)
    async def _fetch(self, tenant: str, ids: list[str]) -> dict[str, Any]:
        response = await self._http.get(
            self._url, params={"ids": ids}, headers={"X-Tenant-Id": tenant}, timeout=self._timeout
        )
        response.raise_for_status()
        body: dict[str, Any] = response.json()
        return body
