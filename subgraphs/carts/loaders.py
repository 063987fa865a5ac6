"""Per-request loaders: carts by user, lines by cart, and the catalog's view of products
(one HTTP call per batch)."""

from dataclasses import dataclass

from strawberry.dataloader import DataLoader

from resolvers.context import Context
from resolvers.loaders import loader, many_by, one_by
from resolvers.runtime import Runtime, service_client
from subgraphs.carts.catalog_client import CatalogClient, CatalogProduct
from subgraphs.carts.settings import CartsSettings
from subgraphs.carts.tables import OPEN, CartLineRow, CartRow


@dataclass(frozen=True, slots=True)
class CartsLoaders:
    open_cart: DataLoader[str, CartRow | None]
    lines: DataLoader[str, list[CartLineRow]]
    product: DataLoader[str, CatalogProduct | None]


def catalog_client(runtime: Runtime) -> CatalogClient:
    settings = runtime.settings
    assert isinstance(settings, CartsSettings)
    return CatalogClient(service_client(runtime, "catalog", settings.catalog_url))


def make_loaders(context: "Context[CartsLoaders]", runtime: Runtime) -> CartsLoaders:
    catalog = catalog_client(runtime)

    async def products(ids: list[str]) -> list[CatalogProduct | None]:
        found = await catalog.products(context.tenant, ids)
        return [found.get(i) for i in ids]

    return CartsLoaders(
        open_cart=one_by(context, CartRow.user_id, where=(CartRow.status == OPEN,)),
        lines=many_by(context, CartLineRow.cart_id, order_by=(CartLineRow.added_at, CartLineRow.id)),
        product=loader(products),
    )
