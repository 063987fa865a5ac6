"""Per-request loaders: one SQL statement per entity type per batch, whatever the page size."""

from dataclasses import dataclass

from strawberry.dataloader import DataLoader

from resolvers.context import Context
from resolvers.loaders import loader, one_per_key
from resolvers.validation import is_uuid
from subgraphs.catalog.reads import categories_by_ids, products_by_ids
from subgraphs.catalog.tables import CategoryRow, ProductRow, StockRow

ProductWithStock = tuple[ProductRow, StockRow]


@dataclass(frozen=True, slots=True)
class CatalogLoaders:
    product: DataLoader[str, ProductWithStock | None]
    category: DataLoader[str, CategoryRow | None]


def make_loaders(context: "Context[CatalogLoaders]", _runtime: object) -> CatalogLoaders:
    # Each batch opens its own session: batches of different loaders run concurrently and an
    # AsyncSession must never be shared between concurrent tasks.
    async def products(ids: list[str]) -> list[ProductWithStock | None]:
        wanted = [i for i in ids if is_uuid(i)]
        async with context.db() as session:
            rows = await products_by_ids(context.tenant, wanted, session=session) if wanted else []
        return one_per_key(ids, rows, lambda row: row[0].id)

    async def categories(ids: list[str]) -> list[CategoryRow | None]:
        async with context.db() as session:
            rows = await categories_by_ids(context.tenant, ids, session=session)
        return one_per_key(ids, rows, lambda row: row.id)

    return CatalogLoaders(product=loader(products), category=loader(categories))
