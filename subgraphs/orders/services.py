"""Order rules. Functions take a keyword-only ``session`` and never commit.

An order's life, and the only moves it makes (``move`` refuses the rest):

    PENDING_PAYMENT ──paid──▶ PAID ──fulfilled──▶ FULFILLED
        │  ▲   │  └─expired / cancelled──▶ EXPIRED / CANCELLED
        │  │ retry
        ▼  │
    PAYMENT_FAILED ──expired / cancelled──▶ EXPIRED / CANCELLED

Every move is made on the locked order and publishes ``order.status_changed`` (the catalog commits or releases
the attempt's reservation from it, carts and payments follow), and a payment outcome that
does not fit the order's status is logged and ignored: never applied twice.
"""

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import structlog
from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from resolvers.db import serialize_on
from resolvers.errors import BadUserInput, InvalidTransition, NotFound, TooManyPendingCheckouts
from resolvers.money import check_currency
from subgraphs.orders import notifications, published
from subgraphs.orders.tables import CheckoutRow, OrderLineRow, OrderRow, OrderStatus

log = structlog.get_logger(__name__)

S = OrderStatus
MOVES: dict[str, frozenset[str]] = {
    S.PENDING_PAYMENT: frozenset({S.PAID, S.PAYMENT_FAILED, S.CANCELLED, S.EXPIRED}),
    S.PAYMENT_FAILED: frozenset({S.PENDING_PAYMENT, S.CANCELLED, S.EXPIRED}),
    S.PAID: frozenset({S.FULFILLED}),
}

UNPAID = frozenset({S.PENDING_PAYMENT, S.PAYMENT_FAILED})


@dataclass(frozen=True, slots=True)
class LineDraft:
    product_id: str
    sku: str
    name: str
    unit_price_amount: int
    quantity: int


def order_number() -> str:
    """Short enough to read out on the phone; the unique index catches the rare clash."""
    return f"SG-{secrets.token_hex(4).upper()}"


async def place_order(
    tenant: str,
    user_id: str,
    lines: Sequence[LineDraft],
    *,
    currency: str,
    shipping_address: dict[str, str | None],
    shipping_amount: int = 0,
    tax_amount: int = 0,
    status: OrderStatus = OrderStatus.PENDING_PAYMENT,
    order_id: str | None = None,
    attempt: int = 1,
    email: str | None = None,
    note: str | None = None,
    expires_at: datetime | None = None,
    session: AsyncSession,
) -> OrderRow:
    if not lines:
        raise BadUserInput("An order needs at least one line.")
    subtotal = sum(line.unit_price_amount * line.quantity for line in lines)
    order = OrderRow(
        tenant_id=tenant,
        user_id=user_id,
        number=order_number(),
        status=status,
        currency=check_currency(currency),
        subtotal_amount=subtotal,
        shipping_amount=shipping_amount,
        tax_amount=tax_amount,
        total_amount=subtotal + shipping_amount + tax_amount,
        shipping_address=shipping_address,
        attempt=attempt,
        email=email,
        note=note,
        expires_at=expires_at,
    )
    if order_id is not None:
        order.id = order_id
    session.add(order)
    await session.flush()
    rows = [
        OrderLineRow(
            order_id=order.id,
            tenant_id=tenant,
            position=position,
            product_id=line.product_id,
            sku=line.sku,
            name=line.name,
            unit_price_amount=line.unit_price_amount,
            quantity=line.quantity,
        )
        for position, line in enumerate(lines)
    ]
    session.add_all(rows)
    await session.flush()
    await published.order_created(session, order, rows)
    return order


async def hold_another(
    tenant: str,
    user_id: str,
    *,
    limit: int,
    now: datetime,
    claim: str | None = None,
    order: str | None = None,
    session: AsyncSession,
) -> None:
    """Refuses a checkout (or a retried payment) that would give the shopper more than
    ``limit`` orders holding stock: orders awaiting payment, retried payments under way, and
    checkouts under way; not the caller's own (its new ``claim``, or the ``order`` it retries,
    whose earlier retry it replaces). A checkout or retry whose lease ran out has died and
    counts no more. Concurrent checkouts and retries of one shopper are counted one after
    another, so two cannot both take the last place."""
    await serialize_on(session, f"pending-checkouts/{tenant}/{user_id}")
    mine = (OrderRow.tenant_id == tenant, OrderRow.user_id == user_id)
    holding = or_(
        OrderRow.status == S.PENDING_PAYMENT, and_(OrderRow.status == S.PAYMENT_FAILED, OrderRow.retrying_until > now)
    )
    holding_orders = select(func.count()).select_from(OrderRow).where(*mine, holding)
    if order is not None:
        holding_orders = holding_orders.where(OrderRow.id != order)
    orders = await session.scalar(holding_orders)
    running = (
        select(func.count())
        .select_from(CheckoutRow)
        .where(
            CheckoutRow.tenant_id == tenant,
            CheckoutRow.user_id == user_id,
            CheckoutRow.completed.is_(False),
            CheckoutRow.lease_until > now,
        )
    )
    if claim is not None:
        running = running.where(CheckoutRow.id != claim)
    checkouts = await session.scalar(running)
    if (orders or 0) + (checkouts or 0) >= limit:
        raise TooManyPendingCheckouts(
            f"You have {limit} unpaid orders; pay or cancel one before checking out again.", limit=limit
        )


async def locked(tenant: str, order_id: str, *, session: AsyncSession) -> OrderRow:
    order = await session.get(OrderRow, order_id, with_for_update=True, populate_existing=True)
    if order is None or order.tenant_id != tenant:
        raise NotFound("No such order.", field="id")
    return order


async def lines_of(order: OrderRow, *, session: AsyncSession) -> list[OrderLineRow]:
    return list(
        await session.scalars(
            select(OrderLineRow).where(OrderLineRow.order_id == order.id).order_by(OrderLineRow.position)
        )
    )


async def move(order: OrderRow, to: OrderStatus, *, reason: str | None = None, session: AsyncSession) -> OrderRow:
    """Moves a locked order to ``to`` and publishes the move; refuses a move its status does
    not allow. A paid order's confirmation mail is queued in the same transaction."""
    before = order.status
    if to not in MOVES.get(before, frozenset()):
        raise InvalidTransition(f"An order that is {before} cannot become {to}.", status=before)
    order.status = to
    await session.flush()
    lines = await lines_of(order, session=session)
    await published.status_changed(session, order, lines, before=before, reason=reason)
    if to == S.PAID:
        await notifications.queue_confirmation(order, lines, session=session)
    return order


async def payment_outcome(
    tenant: str, order: OrderRow, *, attempt: int, succeeded: bool, reason: str | None, session: AsyncSession
) -> bool:
    """Applies what payments said about an attempt of a locked order; False when it no longer
    fits (another attempt is under way, or the order moved on) and was ignored."""
    to = S.PAID if succeeded else S.PAYMENT_FAILED
    if order.attempt != attempt or order.status != S.PENDING_PAYMENT:
        log.warning(
            "payment outcome ignored",
            order_id=order.id,
            status=order.status,
            attempt=order.attempt,
            outcome_attempt=attempt,
            outcome=to,
        )
        return False
    await move(order, to, reason=reason, session=session)
    return True


async def due_to_expire(now: datetime, *, limit: int, session: AsyncSession) -> list[tuple[str, str]]:
    """Unpaid orders past their time, as (tenant, order id)."""
    rows = await session.execute(
        select(OrderRow.tenant_id, OrderRow.id)
        .where(OrderRow.status.in_(UNPAID), OrderRow.expires_at < now)
        .order_by(OrderRow.expires_at)
        .limit(limit)
    )
    return [(tenant, order_id) for tenant, order_id in rows.tuples()]
