"""Per-request loaders: one SQL statement per entity type per batch, whatever the page size."""

from dataclasses import dataclass

from strawberry.dataloader import DataLoader

from resolvers.context import Context
from resolvers.loaders import loader, one_by, one_per_key
from subgraphs.catalog.reads import ProductView, recent_orders, views_by_ids
from subgraphs.catalog.tables import CategoryRow


@dataclass(frozen=True, slots=True)
class CatalogLoaders:
    product: DataLoader[str, ProductView | None]
    category: DataLoader[str, CategoryRow | None]
    recent_orders: DataLoader[str, int]


def make_loaders(context: "Context[CatalogLoaders]", _runtime: object) -> CatalogLoaders:
    async def products(ids: list[str]) -> list[ProductView | None]:
        async with context.db() as session:
            found = await views_by_ids(context.tenant, ids, session=session)
        return one_per_key(ids, found, lambda view: view.product.id)

    async def order_counts(ids: list[str]) -> list[int]:
        async with context.db() as session:
            counts = await recent_orders(context.tenant, ids, session=session)
        return [counts.get(product_id, 0) for product_id in ids]

    return CatalogLoaders(
        product=loader(products), category=one_by(context, CategoryRow.id), recent_orders=loader(order_counts)
    )
