"""The carts subgraph's GraphQL types: ``User.cart`` and the cart it returns."""

from datetime import datetime
from typing import Self

import strawberry

from resolvers import scopes
from resolvers.context import Context
from resolvers.errors import Conflict
from resolvers.list_sizes import assumed
from resolvers.money import Money
from resolvers.permissions import owner_or
from resolvers.stubs import STUB_KEY
from subgraphs.carts.loaders import CartsLoaders
from subgraphs.carts.services import MAX_LINES
from subgraphs.carts.tables import CartLineRow, CartRow

Info = strawberry.Info[Context[CartsLoaders], None]

ADMIN_SCOPE = scopes.USERS_ADMIN


@strawberry.federation.type(keys=STUB_KEY)
class Product:
    id: strawberry.ID


@strawberry.type
class CartLine:
    id: strawberry.ID
    quantity: int
    added_at: datetime
    product_id: strawberry.Private[str]

    @strawberry.field
    def product(self) -> Product:
        return Product(id=strawberry.ID(self.product_id))

    @strawberry.field(description="The catalog's current price of one unit; null when the catalog no longer has it.")
    async def unit_price(self, info: Info) -> Money | None:
        product = await info.context.loaders.product.load(self.product_id)
        return product.price if product else None

    @classmethod
    def from_row(cls, row: CartLineRow) -> Self:
        return cls(id=strawberry.ID(row.id), quantity=row.quantity, added_at=row.added_at, product_id=row.product_id)


@strawberry.type
class Cart:
    id: strawberry.ID
    updated_at: datetime

    @strawberry.field(directives=[assumed(MAX_LINES)])
    async def lines(self, info: Info) -> list[CartLine]:
        return [CartLine.from_row(row) for row in await info.context.loaders.lines.load(self.id)]

    @strawberry.field(description="How many units the cart holds, archived products included.")
    async def item_count(self, info: Info) -> int:
        return sum(row.quantity for row in await info.context.loaders.lines.load(self.id))

    @strawberry.field(description="Current catalog prices times quantities; archived products are left out.")
    async def subtotal(self, info: Info) -> Money | None:
        loaders = info.context.loaders
        rows = await loaders.lines.load(self.id)
        products = await loaders.product.load_many([row.product_id for row in rows])
        priced = [(row, product) for row, product in zip(rows, products, strict=True) if product and product.active]
        if not priced:
            return None
        currencies = {product.price.currency for _, product in priced}
        if len(currencies) > 1:
            raise Conflict("The cart holds products priced in different currencies.")
        amount = sum(product.price.amount * row.quantity for row, product in priced)
        return Money.of(amount, currencies.pop())

    @classmethod
    def from_row(cls, row: CartRow) -> Self:
        return cls(id=strawberry.ID(row.id), updated_at=row.updated_at)


@strawberry.federation.type(keys=["id"])
class User:
    id: strawberry.ID

    @owner_or(
        ADMIN_SCOPE, reader=scopes.CARTS_WRITE, description="The user's open cart; null until they add something."
    )
    async def cart(self, info: Info) -> Cart | None:
        row = await info.context.loaders.open_cart.load(self.id)
        return Cart.from_row(row) if row else None

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> Self:
        return cls(id=id)
