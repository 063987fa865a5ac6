"""Per-request loaders: one SQL statement per entity type per batch, whatever the page size."""

from dataclasses import dataclass

from strawberry.dataloader import DataLoader

from resolvers.context import Context
from resolvers.loaders import loader, one_by, one_per_key
from subgraphs.catalog.reads import products_by_ids
from subgraphs.catalog.tables import CategoryRow, ProductRow, StockRow

ProductWithStock = tuple[ProductRow, StockRow]


@dataclass(frozen=True, slots=True)
class CatalogLoaders:
    product: DataLoader[str, ProductWithStock | None]
    category: DataLoader[str, CategoryRow | None]


def make_loaders(context: "Context[CatalogLoaders]", _runtime: object) -> CatalogLoaders:
    async def products(ids: list[str]) -> list[ProductWithStock | None]:
        async with context.db() as session:
            rows = await products_by_ids(context.tenant, ids, session=session)
        return one_per_key(ids, rows, lambda row: row[0].id)

    return CatalogLoaders(product=loader(products), category=one_by(context, CategoryRow.id))
