"""Cart rules. Functions take a keyword-only ``session`` and never commit.

Every change locks the shopper's open cart row first (``FOR UPDATE`` on PostgreSQL; SQLite
write transactions hold the database lock from their start), so two requests for one cart
take turns: no lost quantity, no line limit slipped past, no second open cart.
"""

from sqlalchemy import delete, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from resolvers import validation
from resolvers.db import insert_if_absent, new_id, utcnow
from resolvers.errors import BadUserInput, Conflict, NotFound
from subgraphs.carts import published
from subgraphs.carts.catalog_client import CatalogProduct
from subgraphs.carts.tables import OPEN, CartLineRow, CartRow

MAX_QUANTITY = 99
MAX_LINES = 50


def check_quantity(quantity: int) -> int:
    if not 1 <= quantity <= MAX_QUANTITY:
        raise BadUserInput(f"quantity must be between 1 and {MAX_QUANTITY}.", field="quantity")
    return quantity


def check_purchasable(product: CatalogProduct | None) -> CatalogProduct:
    if product is None:
        raise NotFound("No such product.", field="productId")
    if not product.active:
        raise Conflict("This product is no longer sold.", field="productId")
    return product


async def locked_open_cart(tenant: str, user_id: str, *, session: AsyncSession) -> CartRow | None:
    cart: CartRow | None = await session.scalar(
        select(CartRow)
        .where(CartRow.tenant_id == tenant, CartRow.user_id == user_id, CartRow.status == OPEN)
        .with_for_update()
    )
    return cart


async def ensure_open_cart(tenant: str, user_id: str, *, session: AsyncSession) -> CartRow:
    values = {
        "id": new_id(),
        "tenant_id": tenant,
        "user_id": user_id,
        "status": OPEN,
        "created_at": utcnow(),
        "updated_at": utcnow(),
    }
    await insert_if_absent(session, CartRow, values, unique=("tenant_id", "user_id"), where=text("status = 'OPEN'"))
    cart = await locked_open_cart(tenant, user_id, session=session)
    assert cart is not None
    return cart


async def add_to_cart(
    tenant: str, user_id: str, product: CatalogProduct, quantity: int, *, session: AsyncSession
) -> CartRow:
    check_quantity(quantity)
    cart = await ensure_open_cart(tenant, user_id, session=session)
    line = await session.scalar(
        select(CartLineRow).where(CartLineRow.cart_id == cart.id, CartLineRow.product_id == product.id)
    )
    if line is None:
        lines = await session.scalar(select(func.count()).where(CartLineRow.cart_id == cart.id))
        if (lines or 0) >= MAX_LINES:
            raise Conflict(f"A cart holds at most {MAX_LINES} different products.")
        session.add(CartLineRow(cart_id=cart.id, tenant_id=tenant, product_id=product.id, quantity=quantity))
    else:
        line.quantity = check_quantity(line.quantity + quantity)
    return await _touched(cart, session=session)


async def _own_line(tenant: str, user_id: str, line_id: str, *, session: AsyncSession) -> tuple[CartRow, CartLineRow]:
    line_id = validation.uuid_id(line_id, field="lineId")
    cart = await locked_open_cart(tenant, user_id, session=session)
    line = await session.get(CartLineRow, line_id)
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


async def clear(tenant: str, user_id: str, *, session: AsyncSession) -> CartRow | None:
    """Empties the open cart; a shopper without one has nothing to clear."""
    cart = await locked_open_cart(tenant, user_id, session=session)
    if cart is None:
        return None
    await session.execute(delete(CartLineRow).where(CartLineRow.cart_id == cart.id))
    return await _touched(cart, session=session)


async def open_cart_lines(tenant: str, user_id: str, *, session: AsyncSession) -> list[CartLineRow]:
    lines = await session.scalars(
        select(CartLineRow)
        .join(CartRow, CartRow.id == CartLineRow.cart_id)
        .where(CartRow.tenant_id == tenant, CartRow.user_id == user_id, CartRow.status == OPEN)
        .order_by(CartLineRow.added_at, CartLineRow.id)
    )
    return list(lines)


async def take_out_ordered(tenant: str, user_id: str, ordered: dict[str, int], *, session: AsyncSession) -> bool:
    """A paid order leaves the cart: each ordered product's line loses the ordered units (and
    goes when none are left), so what the shopper added after checking out stays. True when
    the cart changed."""
    cart = await locked_open_cart(tenant, user_id, session=session)
    if cart is None:
        return False
    lines = await session.scalars(
        select(CartLineRow).where(CartLineRow.cart_id == cart.id, CartLineRow.product_id.in_(ordered))
    )
    changed = False
    for line in lines:
        changed = True
        if line.quantity <= ordered[line.product_id]:
            await session.delete(line)
        else:
            line.quantity -= ordered[line.product_id]
    if changed:
        await _touched(cart, cause=published.ORDER_PAID, session=session)
    return changed


async def drop_product(tenant: str, product_id: str, *, session: AsyncSession) -> int:
    """Takes a product the catalog archived out of every open cart; returns how many carts
    changed. Each cart is locked first, like any other change to it."""
    carts = (
        await session.scalars(
            select(CartRow)
            .join(CartLineRow, CartLineRow.cart_id == CartRow.id)
            .where(CartRow.tenant_id == tenant, CartRow.status == OPEN, CartLineRow.product_id == product_id)
            .order_by(CartRow.id)
            .with_for_update(of=CartRow)
        )
    ).all()
    for cart in carts:
        await session.execute(
            delete(CartLineRow).where(CartLineRow.cart_id == cart.id, CartLineRow.product_id == product_id)
        )
        await _touched(cart, cause=published.PRODUCT_ARCHIVED, session=session)
    return len(carts)


async def _touched(cart: CartRow, *, cause: str = published.SHOPPER, session: AsyncSession) -> CartRow:
    cart.updated_at = utcnow()
    await session.flush()
    await published.cart_updated(session, cart, cause=cause)
    return cart
