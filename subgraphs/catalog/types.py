"""The catalog's GraphQL types. Plain fields are filled from the row by the parent resolver;
only references to other rows (a product's category) go through loaders."""

from datetime import datetime
from enum import Enum
from typing import Self

import strawberry

from resolvers.context import Context
from resolvers.money import Money
from resolvers.permissions import requires_scopes
from subgraphs.catalog.loaders import CatalogLoaders
from subgraphs.catalog.tables import CategoryRow, ProductRow, StockRow

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
    on_hand: int | None = requires_scopes("inventory:write")
    reserved: int | None = requires_scopes("inventory:write")
    available: int

    @classmethod
    def from_row(cls, row: StockRow) -> Self:
        return cls(on_hand=row.on_hand, reserved=row.reserved, available=row.on_hand - row.reserved)


@strawberry.federation.type(keys=["id"])
class Product:
    id: strawberry.ID
    sku: str
    name: str
    description: str
    price: Money
    active: bool = strawberry.field(description="False once archived: hidden from listings, still resolvable.")
    stock: Stock
    created_at: datetime
    category_id: strawberry.Private[str | None]

    @strawberry.field
    async def category(self, info: Info) -> Category | None:
        if self.category_id is None:
            return None
        row = await info.context.loaders.category.load(self.category_id)
        return Category.from_row(row) if row else None

    @classmethod
    def from_rows(cls, product: ProductRow, stock: StockRow) -> Self:
        return cls(
            id=strawberry.ID(product.id),
            sku=product.sku,
            name=product.name,
            description=product.description,
            price=Money(amount=product.price_amount, currency=product.currency),
            active=product.active,
            stock=Stock.from_row(stock),
            created_at=product.created_at,
            category_id=product.category_id,
        )

    @classmethod
    async def resolve_reference(cls, info: Info, id: strawberry.ID) -> Self | None:
        rows = await info.context.loaders.product.load(id)
        return cls.from_rows(*rows) if rows else None


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
