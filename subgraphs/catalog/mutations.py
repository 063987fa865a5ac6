"""The catalog's mutation root: each mutation is one transaction."""

import strawberry

from resolvers.permissions import requires_scopes
from subgraphs.catalog import services
from subgraphs.catalog.tables import ProductRow, StockRow
from subgraphs.catalog.types import (
    Category,
    CreateCategoryInput,
    CreateProductInput,
    Info,
    Product,
    UpdateProductInput,
)


async def _with_stock(product: ProductRow, info: Info) -> Product:
    async with info.context.db() as session:
        stock = await session.get(StockRow, product.id)
    assert stock is not None
    return Product.from_rows(product, stock)


@strawberry.type
class Mutation:
    @requires_scopes("catalog:write")
    async def create_category(self, info: Info, input: CreateCategoryInput) -> Category:
        async with info.context.db.begin() as session:
            row = await services.create_category(info.context.tenant, slug=input.slug, name=input.name, session=session)
        return Category.from_row(row)

    @requires_scopes("catalog:write")
    async def create_product(self, info: Info, input: CreateProductInput) -> Product:
        draft = services.ProductDraft(
            sku=input.sku,
            name=input.name,
            description=input.description,
            price_amount=input.price.amount,
            currency=input.price.currency,
            category_id=input.category_id,
        )
        async with info.context.db.begin() as session:
            row = await services.create_product(info.context.tenant, draft, session=session)
        return await _with_stock(row, info)

    @requires_scopes("catalog:write")
    async def update_product(self, info: Info, id: strawberry.ID, input: UpdateProductInput) -> Product:
        changes = services.ProductChanges(
            name=input.name,
            description=input.description,
            price_amount=input.price_amount,
            category_id=input.category_id,
        )
        async with info.context.db.begin() as session:
            row = await services.update_product(info.context.tenant, id, changes, session=session)
        return await _with_stock(row, info)

    @requires_scopes("catalog:write")
    async def archive_product(self, info: Info, id: strawberry.ID) -> Product:
        async with info.context.db.begin() as session:
            row = await services.archive_product(info.context.tenant, id, session=session)
        return await _with_stock(row, info)

    @requires_scopes("inventory:write")
    async def set_stock(self, info: Info, product_id: strawberry.ID, on_hand: int) -> Product:
        async with info.context.db.begin() as session:
            stock = await services.set_stock(info.context.tenant, product_id, on_hand, session=session)
            product = await services.product(info.context.tenant, stock.product_id, session=session)
        return Product.from_rows(product, stock)
