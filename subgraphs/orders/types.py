"""The orders subgraph's GraphQL types: ``Order``, its lines, and ``User.orders``."""

from datetime import datetime
from typing import Self

import strawberry

from resolvers import scopes
from resolvers.context import Context
from resolvers.list_sizes import PAGED, assumed
from resolvers.money import Money
from resolvers.pagination import Connection, check_page_size, connection
from resolvers.permissions import owner_or, owner_or_scope
from resolvers.stubs import STUB_KEY
from subgraphs.orders import tables
from subgraphs.orders.loaders import NEWEST_FIRST, HistoryPage, OrdersLoaders
from subgraphs.orders.services import UNPAID
from subgraphs.orders.tables import OrderLineRow, OrderRow

Info = strawberry.Info[Context[OrdersLoaders], None]

ADMIN_SCOPE = scopes.ORDERS_ADMIN
READER_SCOPE = scopes.ORDERS_READ

strawberry.enum(tables.OrderStatus, description="Where an order stands between checkout and delivery.")


@strawberry.federation.type(keys=STUB_KEY)
class Product:
    id: strawberry.ID


@strawberry.type
class OrderLine:
    id: strawberry.ID
    sku: str
    name: str = strawberry.field(description="The product's name when the order was placed.")
    quantity: int
    unit_price: Money = strawberry.field(description="The price paid per unit, fixed when the order was placed.")
    line_total: Money
    product: Product

    @classmethod
    def from_row(cls, row: OrderLineRow, currency: str) -> Self:
        return cls(
            id=strawberry.ID(row.id),
            sku=row.sku,
            name=row.name,
            quantity=row.quantity,
            unit_price=Money.of(row.unit_price_amount, currency),
            line_total=Money.of(row.unit_price_amount * row.quantity, currency),
            product=Product(id=strawberry.ID(row.product_id)),
        )


@strawberry.type
class OrderTotals:
    subtotal: Money
    shipping: Money
    tax: Money
    total: Money


@strawberry.type
class ShippingAddress:
    recipient: str
    line1: str
    line2: str | None
    city: str
    region: str | None
    postal_code: str
    country: str


@strawberry.federation.type(keys=["id"])
class User:
    id: strawberry.ID

    @owner_or(ADMIN_SCOPE, reader=READER_SCOPE, description="The user's orders, newest first.", directives=[PAGED])
    async def orders(self, info: Info, first: int = 10, after: str | None = None) -> Connection["Order"] | None:
        first = check_page_size(first)
        loaders = info.context.loaders
        rows = await loaders.history.load(HistoryPage(self.id, first, after))

        async def count_total() -> int:
            return await loaders.history_count.load(self.id)

        return connection(
            rows,
            first=first,
            keyset=NEWEST_FIRST,
            sort_values=lambda row: (row.created_at, row.id),
            node=Order.from_row,
            count_total=count_total,
        )

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> Self:
        return cls(id=id)


@strawberry.federation.type(keys=["id"])
class Order:
    id: strawberry.ID
    number: str
    status: tables.OrderStatus
    created_at: datetime
    expires_at: datetime | None = strawberry.field(
        description="An unpaid order expires at this time and its stock goes back."
    )
    totals: OrderTotals
    shipping_address: ShippingAddress
    note: str | None
    user_id: strawberry.Private[str]
    currency: strawberry.Private[str]

    @strawberry.field
    def customer(self) -> User:
        return User(id=strawberry.ID(self.user_id))

    # An order has the lines its cart had, and carts hold at most 50.
    @strawberry.field(directives=[assumed(50)])
    async def lines(self, info: Info) -> list[OrderLine]:
        rows = await info.context.loaders.lines.load(self.id)
        return [OrderLine.from_row(row, self.currency) for row in rows]

    @classmethod
    def from_row(cls, row: OrderRow) -> Self:
        def money(amount: int) -> Money:
            return Money.of(amount, row.currency)

        address = row.shipping_address
        return cls(
            id=strawberry.ID(row.id),
            number=row.number,
            status=tables.OrderStatus(row.status),
            created_at=row.created_at,
            expires_at=row.expires_at if row.status in UNPAID else None,
            note=row.note,
            totals=OrderTotals(
                subtotal=money(row.subtotal_amount),
                shipping=money(row.shipping_amount),
                tax=money(row.tax_amount),
                total=money(row.total_amount),
            ),
            shipping_address=ShippingAddress(
                recipient=address.get("recipient") or "",
                line1=address.get("line1") or "",
                line2=address.get("line2"),
                city=address.get("city") or "",
                region=address.get("region"),
                postal_code=address.get("postal_code") or "",
                country=address.get("country") or "",
            ),
            user_id=row.user_id,
            currency=row.currency,
        )

    @classmethod
    async def resolve_reference(cls, info: Info, id: strawberry.ID) -> Self | None:
        row = await info.context.loaders.order.load(id)
        if row is None:
            return None
        owner_or_scope(info.context, row.user_id, ADMIN_SCOPE, reader=READER_SCOPE)
        return cls.from_row(row)


@strawberry.input
class MoneyInput:
    amount: int
    currency: str


@strawberry.input
class ShippingAddressInput:
    recipient: str
    line1: str
    city: str
    postal_code: str
    country: str
    line2: str | None = None
    region: str | None = None


@strawberry.input(description="What the shopper confirms at checkout.")
class CheckoutInput:
    idempotency_key: str = strawberry.field(
        description="Chosen by the client once per checkout (a UUID, say) and sent again on every retry of it."
    )
    shipping_address: ShippingAddressInput
    expected_total: MoneyInput | None = strawberry.field(
        default=None,
        description="The total the shopper was shown; when the cart now totals otherwise, checkout fails with "
        "PRICE_CHANGED.",
    )
    email: str | None = strawberry.field(
        default=None, description="Where the confirmation goes; the signed-in account's email when omitted."
    )
    note: str | None = None
