"""Demo data for ``make run``: a store called ``demo`` with ten categories, two hundred
products with stock, and a shopper with an address, a cart and two paid orders.

This top-level wiring is the one place that writes into several subgraphs' databases; it
goes through each subgraph's own services, as its mutations do.
"""

import random
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from devstack.oidc.directory import ACCOUNTS
from resolvers.auth import Caller
from resolvers.db import create_engine, writer
from subgraphs.carts import services as carts
from subgraphs.carts.tables import CartLineRow
from subgraphs.catalog import services as catalog
from subgraphs.catalog.tables import ProductRow
from subgraphs.orders import services as orders
from subgraphs.orders.tables import OrderStatus
from subgraphs.payments import services as payments
from subgraphs.payments.tables import PaymentStatus
from subgraphs.users import services as users

# The shopper who signs in as `shopper` at the local provider owns the demo cart and orders.
_ACCOUNT = ACCOUNTS["shopper"]
TENANT = _ACCOUNT.tenants[0]
SHOPPER_ID = _ACCOUNT.subject
SHOPPER = Caller(subject=SHOPPER_ID, tenant=TENANT, email=_ACCOUNT.email, name=_ACCOUNT.name)

CATEGORIES = {
    "shoes": ("Shoes", ["Trail Runner", "City Sneaker", "Leather Boot", "Canvas Slip-on"]),
    "jackets": ("Jackets", ["Rain Shell", "Down Parka", "Denim Jacket", "Fleece Zip"]),
    "bags": ("Bags", ["Day Pack", "Tote", "Messenger", "Weekender"]),
    "hats": ("Hats", ["Wool Beanie", "Sun Hat", "Cap", "Bucket Hat"]),
    "socks": ("Socks", ["Merino Crew", "Running Sock", "Hiking Sock", "Ankle Sock"]),
    "shirts": ("Shirts", ["Oxford Shirt", "Linen Shirt", "Flannel", "Tee"]),
    "trousers": ("Trousers", ["Chino", "Cargo Pant", "Jogger", "Corduroy"]),
    "watches": ("Watches", ["Field Watch", "Diver", "Chronograph", "Dress Watch"]),
    "eyewear": ("Eyewear", ["Aviator", "Wayfarer", "Round Frame", "Sport Shades"]),
    "camping": ("Camping", ["Tent", "Sleeping Bag", "Camp Stove", "Lantern"]),
}
COLOURS = ["Black", "Navy", "Olive", "Sand", "Rust", "Grey", "Forest", "Stone", "Plum", "Teal"]
PRODUCTS_PER_CATEGORY = 20


@dataclass(frozen=True, slots=True)
class Seeded:
    created: bool
    products: int


async def seed(urls: dict[str, str], *, tenant: str = TENANT) -> Seeded:
    """Loads the demo store once; a second run finds it and changes nothing."""
    engines = {name: create_engine(url) for name, url in urls.items()}
    try:
        return await _seed({name: writer(engine) for name, engine in engines.items()}, tenant)
    finally:
        for engine in engines.values():
            await engine.dispose()


async def _seed(sessions: dict[str, async_sessionmaker[AsyncSession]], tenant: str) -> Seeded:
    rng = random.Random(42)  # noqa: S311 - demo data, not secrets
    async with sessions["catalog"].begin() as session:
        existing = await session.scalar(select(func.count()).where(ProductRow.tenant_id == tenant))
        if existing:
            return Seeded(created=False, products=int(existing))
        products: list[ProductRow] = []
        in_stock: list[ProductRow] = []
        for slug, (name, kinds) in CATEGORIES.items():
            category = await catalog.create_category(tenant, slug=slug, name=name, session=session)
            for index in range(PRODUCTS_PER_CATEGORY):
                kind, colour = kinds[index % len(kinds)], COLOURS[index // len(kinds) * 2 % len(COLOURS)]
                product = await catalog.create_product(
                    tenant,
                    catalog.ProductDraft(
                        sku=f"{slug[:4]}-{index + 1:03d}",
                        name=f"{colour} {kind}",
                        description=f"A {colour.lower()} {kind.lower()} from the demo store.",
                        price_amount=rng.randrange(900, 25000, 100) - 1,
                        currency="USD",
                        category_id=category.id,
                    ),
                    session=session,
                )
                stock = await catalog.set_stock(tenant, product.id, rng.choice([0, 3, 12, 40, 100]), session=session)
                products.append(product)
                if stock.on_hand:
                    in_stock.append(product)

    async with sessions["users"].begin() as session:
        shopper = await users.ensure_user(tenant, SHOPPER, SHOPPER_ID, session=session)
        await users.add_address(
            shopper,
            users.AddressDraft(
                recipient="Dana Demo",
                line1="1 Market Street",
                city="San Francisco",
                region="CA",
                postal_code="94105",
                country="US",
                label="Home",
            ),
            session=session,
        )

    async with sessions["carts"].begin() as session:
        cart = await carts.ensure_open_cart(tenant, SHOPPER_ID, session=session)
        for quantity, product in enumerate(in_stock[:3], start=1):
            session.add(CartLineRow(cart_id=cart.id, tenant_id=tenant, product_id=product.id, quantity=quantity))

    address = {
        "recipient": "Dana Demo",
        "line1": "1 Market Street",
        "line2": None,
        "city": "San Francisco",
        "region": "CA",
        "postal_code": "94105",
        "country": "US",
    }
    # Settled history only: an unpaid demo order would have no intent at the Stripe test server.
    history = [
        (OrderStatus.FULFILLED, PaymentStatus.SUCCEEDED, products[10:12]),
        (OrderStatus.PAID, PaymentStatus.SUCCEEDED, products[40:41]),
    ]
    for order_status, payment_status, bought in history:
        async with sessions["orders"].begin() as session:
            order = await orders.place_order(
                tenant,
                SHOPPER_ID,
                [
                    orders.LineDraft(
                        product_id=p.id, sku=p.sku, name=p.name, unit_price_amount=p.price_amount, quantity=1
                    )
                    for p in bought
                ],
                currency="USD",
                shipping_address=address,
                status=order_status,
                session=session,
            )
        async with sessions["payments"].begin() as session:
            await payments.record_payment(
                tenant,
                order_id=order.id,
                user_id=SHOPPER_ID,
                provider_ref=f"pi_demo_{order.number}",
                amount=order.total_amount,
                currency="USD",
                status=payment_status,
                session=session,
            )
    return Seeded(created=True, products=len(products))
