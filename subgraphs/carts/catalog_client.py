"""What carts asks the catalog: current price, status and availability of products, over the
catalog's internal endpoint (see ``resolvers.service_client`` for credentials, retries and
the breaker). When the catalog stays unreachable the caller gets SERVICE_UNAVAILABLE."""

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

from resolvers.money import Money
from resolvers.service_client import ServiceClient

# The catalog answers at most 200 ids per call; larger batches are split.
IDS_PER_CALL = 100


@dataclass(frozen=True, slots=True)
class CatalogProduct:
    id: str
    name: str
    active: bool
    price: Money
    available: int


class CatalogClient:
    def __init__(self, service: ServiceClient) -> None:
        self._service = service

    async def products(self, tenant: str, ids: Sequence[str]) -> dict[str, CatalogProduct]:
        """The products among ``ids`` that the tenant has; unknown ids are simply absent."""
        unique = list(dict.fromkeys(ids))
        chunks = [unique[start : start + IDS_PER_CALL] for start in range(0, len(unique), IDS_PER_CALL)]
        bodies = await asyncio.gather(
            *(self._service.call("GET", "/internal/v1/products", tenant=tenant, params={"ids": c}) for c in chunks)
        )
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
