"""The carts mutation root: every mutation acts on the caller's own open cart."""

import strawberry

from resolvers.permissions import authenticated
from subgraphs.carts import services
from subgraphs.carts.types import Cart, Info


@strawberry.type
class Mutation:
    @authenticated(description="Adds units of a product; adding a product already there raises its quantity.")
    async def add_to_cart(self, info: Info, product_id: strawberry.ID, quantity: int = 1) -> Cart:
        context = info.context
        async with context.db.begin() as session:
            cart = await services.add_to_cart(
                context.tenant,
                context.require_subject(),
                product_id,
                quantity,
                catalog=context.loaders.catalog,
                session=session,
            )
        return Cart.from_row(cart)

    @authenticated()
    async def update_cart_line(self, info: Info, line_id: strawberry.ID, quantity: int) -> Cart:
        context = info.context
        async with context.db.begin() as session:
            cart = await services.update_line(
                context.tenant, context.require_subject(), line_id, quantity, session=session
            )
        return Cart.from_row(cart)

    @authenticated()
    async def remove_cart_line(self, info: Info, line_id: strawberry.ID) -> Cart:
        context = info.context
        async with context.db.begin() as session:
            cart = await services.remove_line(context.tenant, context.require_subject(), line_id, session=session)
        return Cart.from_row(cart)

    @authenticated()
    async def clear_cart(self, info: Info) -> Cart:
        context = info.context
        async with context.db.begin() as session:
            cart = await services.clear(context.tenant, context.require_subject(), session=session)
        return Cart.from_row(cart)
