"""The catalog's mutation root: each mutation is one transaction, and answers with the product
as it was committed."""

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from resolvers import scopes
from resolvers.permissions import requires_scopes
from subgraphs.catalog import reads, services
from subgraphs.catalog.types import (
    Category,
    CreateCategoryInput,
    CreateProductInput,
    Info,
    Product,
    UpdateProductInput,
)


async def _product(tenant: str, product_id: str, *, session: AsyncSession) -> Product:
    [view] = await reads.views_by_ids(tenant, [product_id], session=session)
    return Product.from_view(view)


@strawberry.type
class Mutation:
    @requires_scopes(scopes.CATALOG_WRITE)
    async def create_category(self, info: Info, input: CreateCategoryInput) -> Category:
        async with info.context.transaction() as session:
            row = await services.create_category(info.context.tenant, slug=input.slug, name=input.name, session=session)
        return Category.from_row(row)

    @requires_scopes(scopes.CATALOG_WRITE)
    async def create_product(self, info: Info, input: CreateProductInput) -> Product:
        draft = services.ProductDraft(
            sku=input.sku,
            name=input.name,
            description=input.description,
            price_amount=input.price.amount,
            currency=input.price.currency,
            category_id=input.category_id,
        )
        tenant = info.context.tenant
        async with info.context.transaction() as session:
            row = await services.create_product(tenant, draft, session=session)
            return await _product(tenant, row.id, session=session)

    @requires_scopes(scopes.CATALOG_WRITE)
    async def update_product(self, info: Info, id: strawberry.ID, input: UpdateProductInput) -> Product:
        changes = services.ProductChanges(
            name=input.name,
            description=input.description,
            price_amount=input.price_amount,
            category_id=input.category_id,
        )
        tenant = info.context.tenant
        async with info.context.transaction() as session:
            row = await services.update_product(tenant, id, changes, session=session)
            return await _product(tenant, row.id, session=session)

    @requires_scopes(scopes.CATALOG_WRITE)
    async def archive_product(self, info: Info, id: strawberry.ID) -> Product:
        tenant = info.context.tenant
        async with info.context.transaction() as session:
            row = await services.archive_product(tenant, id, session=session)
            return await _product(tenant, row.id, session=session)

    @requires_scopes(scopes.INVENTORY_WRITE)
    async def set_stock(self, info: Info, product_id: strawberry.ID, on_hand: int) -> Product:
        tenant = info.context.tenant
        async with info.context.transaction() as session:
            stock = await services.set_stock(tenant, product_id, on_hand, session=session)
            return await _product(tenant, stock.product_id, session=session)
