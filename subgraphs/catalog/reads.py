"""How the catalog reads products: one statement returns each product with its stock and
category, so a page of the storefront grid costs one query."""

from collections.abc import Sequence
from datetime import timedelta
from typing import Any, NamedTuple

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from resolvers.db import utcnow
from subgraphs.catalog.tables import CategoryRow, ProductOrderDayRow, ProductRow, StockRow

RECENT_DAYS = 30


class ProductView(NamedTuple):
    product: ProductRow
    stock: StockRow
    category: CategoryRow | None


def product_views(tenant: str) -> Select[tuple[ProductRow, StockRow, CategoryRow]]:
    return (
        select(ProductRow, StockRow, CategoryRow)
        .join(StockRow, StockRow.product_id == ProductRow.id)
        .outerjoin(CategoryRow, CategoryRow.id == ProductRow.category_id)
        .where(ProductRow.tenant_id == tenant)
    )


async def views(query: Select[Any], *, session: AsyncSession) -> list[ProductView]:
    return [ProductView(*row) for row in (await session.execute(query)).tuples()]


async def views_by_ids(tenant: str, ids: Sequence[str], *, session: AsyncSession) -> list[ProductView]:
    return await views(product_views(tenant).where(ProductRow.id.in_(ids)), session=session)


async def count(query: Select[Any], *, session: AsyncSession) -> int:
    total = await session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    return int(total or 0)


async def recent_orders(tenant: str, ids: Sequence[str], *, session: AsyncSession) -> dict[str, int]:
    """Orders of the last ``RECENT_DAYS`` days (today included) that had each product."""
    since = (utcnow() - timedelta(days=RECENT_DAYS - 1)).date()
    days = ProductOrderDayRow
    rows = await session.execute(
        select(days.product_id, func.sum(days.orders))
        .where(days.tenant_id == tenant, days.product_id.in_(ids), days.day >= since)
        .group_by(days.product_id)
    )
    return {product_id: int(total) for product_id, total in rows.tuples()}
