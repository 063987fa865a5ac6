"""The carts mutation root: every mutation acts on the caller's own open cart."""

import strawberry

from resolvers import scopes, validation
from resolvers.permissions import requires_scopes
from subgraphs.carts import services
from subgraphs.carts.types import Cart, Info


@strawberry.type
class Mutation:
    @requires_scopes(
        scopes.CARTS_WRITE, description="Adds units of a product; adding a product already there raises its quantity."
    )
    async def add_to_cart(self, info: Info, product_id: strawberry.ID, quantity: int = 1) -> Cart:
        context = info.context
        subject = context.require_subject()
        services.check_quantity(quantity)
        # Ask the catalog before the transaction starts: no lock is held across the call.
        product = services.check_purchasable(
            await context.loaders.product.load(validation.uuid_id(product_id, field="productId"))
        )
        async with context.transaction() as session:
            cart = await services.add_to_cart(context.tenant, subject, product, quantity, session=session)
        return Cart.from_row(cart)

    @requires_scopes(scopes.CARTS_WRITE)
    async def update_cart_line(self, info: Info, line_id: strawberry.ID, quantity: int) -> Cart:
        context = info.context
        async with context.transaction() as session:
            cart = await services.update_line(
                context.tenant, context.require_subject(), line_id, quantity, session=session
            )
        return Cart.from_row(cart)

    @requires_scopes(scopes.CARTS_WRITE)
    async def remove_cart_line(self, info: Info, line_id: strawberry.ID) -> Cart:
        context = info.context
        async with context.transaction() as session:
            cart = await services.remove_line(context.tenant, context.require_subject(), line_id, session=session)
        return Cart.from_row(cart)

    @requires_scopes(scopes.CARTS_WRITE, description="Empties the caller's cart; null when they have none.")
    async def clear_cart(self, info: Info) -> Cart | None:
        context = info.context
        async with context.transaction() as session:
            cart = await services.clear(context.tenant, context.require_subject(), session=session)
        return Cart.from_row(cart) if cart else None
