"""The catalog's query root."""

from typing import Any

import strawberry
from sqlalchemy import Select, select

from resolvers import validation
from resolvers.errors import BadUserInput
from resolvers.list_sizes import PAGED, assumed
from resolvers.money import check_amount
from resolvers.pagination import Connection, Keyset, check_page_size, connection
from subgraphs.catalog import reads
from subgraphs.catalog.tables import CategoryRow, ProductRow, StockRow
from subgraphs.catalog.types import Category, Info, Product, ProductFilter, ProductSort, ProductSortField, SortDirection

MAX_SEARCH_LENGTH = 100

_SORT_COLUMNS = {
    ProductSortField.NAME: ProductRow.name,
    ProductSortField.PRICE: ProductRow.price_amount,
    ProductSortField.CREATED_AT: ProductRow.created_at,
}


def _keyset(sort: ProductSort) -> Keyset:
    return Keyset(
        name=f"products:{sort.field.value}:{sort.direction.value}",
        columns=(_SORT_COLUMNS[sort.field], ProductRow.id),
        descending=sort.direction is SortDirection.DESC,
    )


def _filtered(query: Select[Any], where: ProductFilter) -> Select[Any]:
    if where.category_id is not None:
        query = query.where(ProductRow.category_id == validation.uuid_id(where.category_id, field="filter.categoryId"))
    if where.search is not None:
        term = validation.text(where.search, field="filter.search", max_length=MAX_SEARCH_LENGTH)
        escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{escaped}%"
        query = query.where(ProductRow.name.ilike(pattern, escape="\\") | ProductRow.sku.ilike(pattern, escape="\\"))
    if where.min_price is not None:
        query = query.where(ProductRow.price_amount >= check_amount(where.min_price, field="filter.minPrice"))
    if where.max_price is not None:
        query = query.where(ProductRow.price_amount <= check_amount(where.max_price, field="filter.maxPrice"))
    if where.min_price is not None and where.max_price is not None and where.min_price > where.max_price:
        raise BadUserInput("filter.minPrice must not exceed filter.maxPrice.", field="filter.minPrice")
    if where.in_stock is not None:
        in_stock = StockRow.available > 0
        query = query.where(in_stock if where.in_stock else ~in_stock)
    return query


@strawberry.type
class Query:
    @strawberry.field(description="The storefront listing: active products, a page at a time.", directives=[PAGED])
    async def products(
        self,
        info: Info,
        first: int = 20,
        after: str | None = None,
        filter: ProductFilter | None = None,
        sort: ProductSort | None = None,
    ) -> Connection[Product]:
        first = check_page_size(first)
        tenant = info.context.tenant
        keyset = _keyset(sort or ProductSort())
        listed = reads.product_views(tenant).where(ProductRow.active.is_(True))
        query = _filtered(listed, filter or ProductFilter())
        async with info.context.db() as session:
            rows = await reads.views(keyset.apply(query, first, after), session=session)

        async def count_total() -> int:
            async with info.context.db() as session:
                return await reads.count(query, session=session)

        return connection(
            rows,
            first=first,
            keyset=keyset,
            sort_values=lambda view: [getattr(view.product, column.key) for column in keyset.columns],
            node=Product.from_view,
            count_total=count_total,
        )

    @strawberry.field
    async def product(self, info: Info, id: strawberry.ID) -> Product | None:
        view = await info.context.loaders.product.load(validation.uuid_id(id))
        return Product.from_view(view) if view else None

    @strawberry.field
    async def product_by_sku(self, info: Info, sku: str) -> Product | None:
        sku = validation.text(sku, field="sku", max_length=64).upper()
        async with info.context.db() as session:
            found = await reads.views(
                reads.product_views(info.context.tenant).where(ProductRow.sku == sku), session=session
            )
        return Product.from_view(found[0]) if found else None

    # Stores keep their categories in the tens or hundreds; nothing caps them.
    @strawberry.field(description="Every category of the store, by name.", directives=[assumed(200)])
    async def categories(self, info: Info) -> list[Category]:
        async with info.context.db() as session:
            rows = await session.scalars(
                select(CategoryRow)
                .where(CategoryRow.tenant_id == info.context.tenant)
                .order_by(CategoryRow.name, CategoryRow.id)
            )
            return [Category.from_row(row) for row in rows]
