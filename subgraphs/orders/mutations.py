"""The orders mutation root: checkout, and moving an order along its life."""

import strawberry

from resolvers import scopes, validation
from resolvers.errors import BadUserInput, NotFound
from resolvers.money import Money, check_currency
from resolvers.permissions import owner_or_scope, requires_any_scope, requires_scopes
from subgraphs.orders import services
from subgraphs.orders.checkout import Checkout, CheckoutRequest
from subgraphs.orders.clients import CheckoutClients
from subgraphs.orders.settings import OrdersSettings
from subgraphs.orders.tables import OrderRow, OrderStatus
from subgraphs.orders.types import ADMIN_SCOPE, CheckoutInput, Info, Order

MAX_KEY_LENGTH = 100


def _settings(info: Info) -> OrdersSettings:
    settings = info.context.runtime.settings
    assert isinstance(settings, OrdersSettings)
    return settings


def _request(info: Info, input: CheckoutInput) -> CheckoutRequest:
    key = validation.text(input.idempotency_key, field="idempotencyKey", max_length=MAX_KEY_LENGTH)
    address = input.shipping_address
    email = input.email or info.context.caller.email
    if not email:
        raise BadUserInput("Give an email address for the order confirmation.", field="email")
    expected = input.expected_total
    return CheckoutRequest(
        idempotency_key=key,
        shipping_address=validation.postal_address(
            recipient=address.recipient,
            line1=address.line1,
            line2=address.line2,
            city=address.city,
            region=address.region,
            postal_code=address.postal_code,
            country_code=address.country,
        ),
        email=validation.email(email),
        note=validation.optional_text(input.note, field="note", max_length=500),
        expected_total=None if expected is None else Money.of(expected.amount, check_currency(expected.currency)),
    )


async def _owned_order(info: Info, order_id: str, *, field: str) -> OrderRow:
    """The order, refused before any change when the caller may not act on it: its owner
    may, and so may ``orders:admin``."""
    row = await info.context.loaders.order.load(validation.uuid_id(order_id, field=field))
    if row is None:
        raise NotFound("No such order.", field=field)
    owner_or_scope(info.context, row.user_id, ADMIN_SCOPE, reader=scopes.ORDERS_WRITE)
    return row


@strawberry.type
class Mutation:
    @requires_scopes(
        scopes.ORDERS_WRITE,
        description="Turns the caller's cart into an order awaiting payment, with its stock held and a Stripe "
        "PaymentIntent open (Order.payment.clientSecret, for Stripe Elements). Sending the same idempotencyKey "
        "again returns the same order.",
    )
    async def checkout(self, info: Info, input: CheckoutInput) -> Order:
        context = info.context
        checkout = Checkout(context, CheckoutClients.of(context.runtime), _settings(info))
        return Order.from_row(await checkout.run(_request(info, input)))

    @requires_scopes(
        scopes.ORDERS_WRITE,
        description="Tries again to pay an order whose payment failed: its stock is held again and a new "
        "PaymentIntent opens (read its clientSecret through Order.payment).",
    )
    async def retry_payment(self, info: Info, order_id: strawberry.ID) -> Order:
        context = info.context
        order = await _owned_order(info, order_id, field="orderId")
        checkout = Checkout(context, CheckoutClients.of(context.runtime), _settings(info))
        return Order.from_row(await checkout.retry_payment(order))

    @requires_scopes(scopes.ORDERS_WRITE, description="Cancels one of the caller's orders before it is paid.")
    async def cancel_order(self, info: Info, id: strawberry.ID) -> Order:
        order = await _owned_order(info, id, field="id")
        return await _move(info, order.id, OrderStatus.CANCELLED, reason="cancelled by the customer")

    @requires_any_scope(ADMIN_SCOPE, description="Records that a paid order left the warehouse.")
    async def mark_fulfilled(self, info: Info, id: strawberry.ID) -> Order:
        return await _move(info, id, OrderStatus.FULFILLED, reason=None)


async def _move(info: Info, order_id: str, to: OrderStatus, *, reason: str | None) -> Order:
    context = info.context
    async with context.transaction() as session:
        order = await services.locked(context.tenant, validation.uuid_id(order_id), session=session)
        await services.move(order, to, reason=reason, session=session)
    return Order.from_row(order)
