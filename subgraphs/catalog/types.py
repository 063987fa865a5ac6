"""The catalog's GraphQL types. Every field is filled by the parent resolver from one row of
``reads.product_views`` (product, stock and category together): per-item async resolvers cost
more than the query they would save."""

from datetime import datetime
from enum import Enum
from typing import Self

import strawberry

from resolvers import scopes
from resolvers.context import Context
from resolvers.money import Money
from resolvers.permissions import requires_scopes
from subgraphs.catalog.loaders import CatalogLoaders
from subgraphs.catalog.reads import RECENT_DAYS, ProductView
from subgraphs.catalog.tables import CategoryRow, StockRow

Info = strawberry.Info[Context[CatalogLoaders], None]


@strawberry.federation.type(keys=["id"])
class Category:
    id: strawberry.ID
    slug: str
    name: str

    @classmethod
    def from_row(cls, row: CategoryRow) -> Self:
        return cls(id=strawberry.ID(row.id), slug=row.slug, name=row.name)

    @classmethod
    async def resolve_reference(cls, info: Info, id: strawberry.ID) -> Self | None:
        row = await info.context.loaders.category.load(id)
        return cls.from_row(row) if row else None


@strawberry.type(description="Inventory: `available` is what a shopper can still buy.")
class Stock:
    on_hand: int | None = requires_scopes(scopes.INVENTORY_WRITE)
    reserved: int | None = requires_scopes(scopes.INVENTORY_WRITE)
    available: int

    @classmethod
    def from_row(cls, row: StockRow) -> Self:
        return cls(on_hand=row.on_hand, reserved=row.reserved, available=row.available)


@strawberry.federation.type(keys=["id"])
class Product:
    id: strawberry.ID
    sku: str
    name: str
    description: str
    price: Money
    active: bool = strawberry.field(description="False once archived: hidden from listings, still resolvable.")
    stock: Stock
    category: Category | None
    created_at: datetime

    @strawberry.field(
        description=f"Orders placed in the last {RECENT_DAYS} days that include this product. Counted from "
        "`order.created` events, so an order shows here moments after it is placed."
    )
    async def recent_orders(self, info: Info) -> int:
        return await info.context.loaders.recent_orders.load(self.id)

    @classmethod
    def from_view(cls, view: ProductView) -> Self:
        product = view.product
        return cls(
            id=strawberry.ID(product.id),
            sku=product.sku,
            name=product.name,
            description=product.description,
            price=Money.of(product.price_amount, product.currency),
            active=product.active,
            stock=Stock.from_row(view.stock),
            category=Category.from_row(view.category) if view.category else None,
            created_at=product.created_at,
        )

    @classmethod
    async def resolve_reference(cls, info: Info, id: strawberry.ID) -> Self | None:
        view = await info.context.loaders.product.load(id)
        return cls.from_view(view) if view else None


@strawberry.enum
class ProductSortField(Enum):
    NAME = "name"
    PRICE = "price"
    CREATED_AT = "created_at"


@strawberry.enum
class SortDirection(Enum):
    ASC = "asc"
    DESC = "desc"


@strawberry.input
class ProductSort:
    field: ProductSortField = ProductSortField.NAME
    direction: SortDirection = SortDirection.ASC


@strawberry.input(description="All given conditions must hold. Prices are in minor units.")
class ProductFilter:
    category_id: strawberry.ID | None = None
    search: str | None = strawberry.field(default=None, description="Matches name or SKU, case-insensitively.")
    min_price: int | None = None
    max_price: int | None = None
    in_stock: bool | None = None


@strawberry.input
class CreateCategoryInput:
    slug: str
    name: str


@strawberry.input
class MoneyInput:
    amount: int
    currency: str


@strawberry.input
class CreateProductInput:
    sku: str
    name: str
    price: MoneyInput
    description: str = ""
    category_id: strawberry.ID | None = None


@strawberry.input(description="Only the fields given change. The currency of a price is fixed.")
class UpdateProductInput:
    name: str | None = None
    description: str | None = None
    price_amount: int | None = None
    category_id: strawberry.ID | None = None
