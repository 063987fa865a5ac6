"""Per-request loaders: carts by user, lines by cart, and the catalog's view of products
(one HTTP call per batch)."""

from dataclasses import dataclass

from sqlalchemy import select
from strawberry.dataloader import DataLoader

from resolvers.app import Runtime
from resolvers.context import Context
from resolvers.loaders import loader, many_per_key, one_per_key
from subgraphs.carts.catalog_client import CatalogClient, CatalogProduct
from subgraphs.carts.settings import CartsSettings
from subgraphs.carts.tables import OPEN, CartLineRow, CartRow


@dataclass(frozen=True, slots=True)
class CartsLoaders:
    catalog: CatalogClient
    open_cart: DataLoader[str, CartRow | None]
    lines: DataLoader[str, list[CartLineRow]]
    product: DataLoader[str, CatalogProduct | None]


def catalog_client(runtime: Runtime) -> CatalogClient:
    settings = runtime.settings
    assert isinstance(settings, CartsSettings)
    return CatalogClient(runtime.http, settings.catalog_url, timeout=settings.catalog_timeout_seconds)


def make_loaders(context: "Context[CartsLoaders]", runtime: Runtime) -> CartsLoaders:
    catalog = catalog_client(runtime)

    async def open_carts(user_ids: list[str]) -> list[CartRow | None]:
        async with context.db() as session:
            rows = await session.scalars(
                select(CartRow).where(
                    CartRow.tenant_id == context.tenant, CartRow.user_id.in_(user_ids), CartRow.status == OPEN
                )
            )
            return one_per_key(user_ids, rows, lambda row: row.user_id)

    async def lines(cart_ids: list[str]) -> list[list[CartLineRow]]:
        async with context.db() as session:
            rows = await session.scalars(
                select(CartLineRow)
                .where(CartLineRow.tenant_id == context.tenant, CartLineRow.cart_id.in_(cart_ids))
                .order_by(CartLineRow.added_at, CartLineRow.id)
            )
            return many_per_key(cart_ids, rows, lambda row: row.cart_id)

    async def products(ids: list[str]) -> list[CatalogProduct | None]:
        found = await catalog.products(context.tenant, ids)
        return [found.get(i) for i in ids]

    return CartsLoaders(catalog=catalog, open_cart=loader(open_carts), lines=loader(lines), product=loader(products))
