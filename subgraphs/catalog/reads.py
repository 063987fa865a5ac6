"""How the catalog reads products: one statement returns a product with its stock."""

from collections.abc import Sequence

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from subgraphs.catalog.tables import ProductRow, StockRow


def products_with_stock(tenant: str) -> Select[tuple[ProductRow, StockRow]]:
    return (
        select(ProductRow, StockRow)
        .join(StockRow, StockRow.product_id == ProductRow.id)
        .where(ProductRow.tenant_id == tenant)
    )


def available() -> object:
    return StockRow.on_hand - StockRow.reserved


async def products_by_ids(
    tenant: str, ids: Sequence[str], *, session: AsyncSession
) -> list[tuple[ProductRow, StockRow]]:
    result = await session.execute(products_with_stock(tenant).where(ProductRow.id.in_(ids)))
    return [(product, stock) for product, stock in result.tuples()]


async def count(query: Select[tuple[ProductRow, StockRow]], *, session: AsyncSession) -> int:
    total = await session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    return int(total or 0)
