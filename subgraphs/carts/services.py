"""Cart rules. Functions take a keyword-only ``session`` and never commit."""

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from resolvers import validation
from resolvers.db import utcnow
from resolvers.errors import BadUserInput, Conflict, NotFound
from subgraphs.carts.catalog_client import CatalogClient
from subgraphs.carts.tables import OPEN, CartLineRow, CartRow

MAX_QUANTITY = 99
MAX_LINES = 50


def check_quantity(quantity: int) -> int:
    if not 1 <= quantity <= MAX_QUANTITY:
        raise BadUserInput(f"quantity must be between 1 and {MAX_QUANTITY}.", field="quantity")
    return quantity


async def open_cart(tenant: str, user_id: str, *, session: AsyncSession) -> CartRow | None:
    cart: CartRow | None = await session.scalar(
        select(CartRow).where(CartRow.tenant_id == tenant, CartRow.user_id == user_id, CartRow.status == OPEN)
    )
    return cart


async def ensure_open_cart(tenant: str, user_id: str, *, session: AsyncSession) -> CartRow:
    cart = await open_cart(tenant, user_id, session=session)
    if cart is None:
        cart = CartRow(tenant_id=tenant, user_id=user_id, status=OPEN)
        session.add(cart)
        await session.flush()
    return cart


async def add_to_cart(
    tenant: str, user_id: str, product_id: str, quantity: int, *, catalog: CatalogClient, session: AsyncSession
) -> CartRow:
    product_id = validation.uuid_id(product_id, field="productId")
    check_quantity(quantity)
    product = (await catalog.products(tenant, [product_id])).get(product_id)
    if product is None:
        raise NotFound("No such product.", field="productId")
    if not product.active:
        raise Conflict("This product is no longer sold.", field="productId")
    cart = await ensure_open_cart(tenant, user_id, session=session)
    line = await session.scalar(
        select(CartLineRow).where(CartLineRow.cart_id == cart.id, CartLineRow.product_id == product_id)
    )
    if line is None:
        lines = await session.scalar(select(func.count()).where(CartLineRow.cart_id == cart.id))
        if (lines or 0) >= MAX_LINES:
            raise Conflict(f"A cart holds at most {MAX_LINES} different products.")
        session.add(CartLineRow(cart_id=cart.id, tenant_id=tenant, product_id=product_id, quantity=quantity))
    else:
        line.quantity = check_quantity(line.quantity + quantity)
    return await _touched(cart, session=session)


async def _own_line(tenant: str, user_id: str, line_id: str, *, session: AsyncSession) -> tuple[CartRow, CartLineRow]:
    cart = await open_cart(tenant, user_id, session=session)
    line = await session.get(CartLineRow, validation.uuid_id(line_id, field="lineId"))
    if cart is None or line is None or line.cart_id != cart.id:
        raise NotFound("No such line in your cart.", field="lineId")
    return cart, line


async def update_line(tenant: str, user_id: str, line_id: str, quantity: int, *, session: AsyncSession) -> CartRow:
    check_quantity(quantity)
    cart, line = await _own_line(tenant, user_id, line_id, session=session)
    line.quantity = quantity
    return await _touched(cart, session=session)


async def remove_line(tenant: str, user_id: str, line_id: str, *, session: AsyncSession) -> CartRow:
    cart, line = await _own_line(tenant, user_id, line_id, session=session)
    await session.delete(line)
    return await _touched(cart, session=session)


async def clear(tenant: str, user_id: str, *, session: AsyncSession) -> CartRow:
    cart = await ensure_open_cart(tenant, user_id, session=session)
    await session.execute(delete(CartLineRow).where(CartLineRow.cart_id == cart.id))
    return await _touched(cart, session=session)


async def _touched(cart: CartRow, *, session: AsyncSession) -> CartRow:
    cart.updated_at = utcnow()
    await session.flush()
    return cart
