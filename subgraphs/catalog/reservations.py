"""Stock reservations: checkout holds units for an order until it is paid (the units leave the
shelf) or not (they go back). Functions take a keyword-only ``session`` and never commit.

No oversell, under any concurrency: a reservation locks the stock rows it touches (``FOR
UPDATE`` on PostgreSQL, in product id order so two reservations never deadlock; SQLite's
write transactions hold the database from their start) and checks ``available`` under the
lock, and the ``stock_consistent`` constraint refuses anything that slipped past.

Every operation is idempotent under the reservation's key: a reserve sent twice holds once,
a release or commit repeated changes nothing, and a release that arrives before its reserve
leaves a released tombstone, so the late reserve cannot hold stock nobody will release.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from resolvers.db import insert_if_absent, utcnow
from resolvers.errors import BadUserInput, Conflict, InsufficientStock, InvalidTransition, ProductUnavailable
from subgraphs.catalog.tables import ProductRow, ReservationLineRow, ReservationRow, ReservationStatus, StockRow

log = structlog.get_logger(__name__)

MAX_LINES = 100


@dataclass(frozen=True, slots=True)
class Held:
    """A reservation and its lines, as the reserving service sees them."""

    reservation: ReservationRow
    lines: Sequence[ReservationLineRow]


async def reserve(
    tenant: str,
    reservation_id: str,
    *,
    order_id: str,
    quantities: Mapping[str, int],
    expires_at: datetime,
    session: AsyncSession,
) -> Held:
    """Holds ``quantities`` (product id to units) for the order until ``expires_at``, at the
    products' current prices; refuses the whole reservation when one product is unknown,
    archived or short."""
    if not quantities or len(quantities) > MAX_LINES:
        raise BadUserInput(f"A reservation holds 1 to {MAX_LINES} products.", field="lines")
    if any(quantity < 1 for quantity in quantities.values()):
        raise BadUserInput("Every quantity must be at least 1.", field="lines")
    created, reservation = await _claimed(
        tenant, reservation_id, order_id, ReservationStatus.HELD, expires_at, session=session
    )
    if not created:
        return await _same_request(reservation, order_id, quantities, session=session)
    ids = sorted(quantities)
    stocks = await _locked_stock(tenant, ids, session=session)
    products = {
        row.id: row
        for row in await session.scalars(
            select(ProductRow).where(ProductRow.tenant_id == tenant, ProductRow.id.in_(ids))
        )
    }
    unavailable = [i for i in ids if i not in products or not products[i].active or i not in stocks]
    if unavailable:
        raise ProductUnavailable("Some products are no longer sold.", productIds=unavailable)
    short = [i for i in ids if stocks[i].available < quantities[i]]
    if short:
        raise InsufficientStock(
            "Not enough stock for some products.",
            productIds=short,
            available={i: stocks[i].available for i in short},
        )
    lines = []
    for product_id in ids:
        stocks[product_id].reserved += quantities[product_id]
        product = products[product_id]
        lines.append(
            ReservationLineRow(
                reservation_id=reservation_id,
                product_id=product_id,
                quantity=quantities[product_id],
                unit_price_amount=product.price_amount,
                currency=product.currency,
            )
        )
    session.add_all(lines)
    await session.flush()
    return Held(reservation, lines)


async def release(tenant: str, reservation_id: str, *, order_id: str, session: AsyncSession) -> ReservationRow:
    """Puts a held reservation's units back on the shelf."""
    _created, reservation = await _claimed(
        tenant, reservation_id, order_id, ReservationStatus.RELEASED, utcnow(), session=session
    )
    if reservation.status == ReservationStatus.COMMITTED:
        raise InvalidTransition("This reservation was sold; it can no longer be released.")
    if reservation.status == ReservationStatus.HELD:
        lines = await _lines(reservation_id, session=session)
        stocks = await _locked_stock(tenant, [line.product_id for line in lines], session=session)
        for line in lines:
            stocks[line.product_id].reserved -= line.quantity
        reservation.status = ReservationStatus.RELEASED
        await session.flush()
    return reservation


async def commit(tenant: str, reservation_id: str, *, session: AsyncSession) -> ReservationRow:
    """The order was paid: its held units leave the shelf. A reservation that expired before
    the payment arrived takes its units again if they are still there."""
    reservation = await _locked(reservation_id, tenant, session=session)
    if reservation.status == ReservationStatus.COMMITTED:
        return reservation
    lines = await _lines(reservation_id, session=session)
    stocks = await _locked_stock(tenant, [line.product_id for line in lines], session=session)
    if reservation.status == ReservationStatus.RELEASED:
        short = [line.product_id for line in lines if stocks[line.product_id].available < line.quantity]
        if short:
            raise InsufficientStock(
                "A paid order's reservation expired and its stock was sold since.", productIds=short
            )
        log.warning("paid after its reservation expired; stock taken again", reservation_id=reservation_id)
    for line in lines:
        stock = stocks[line.product_id]
        stock.on_hand -= line.quantity
        if reservation.status == ReservationStatus.HELD:
            stock.reserved -= line.quantity
    reservation.status = ReservationStatus.COMMITTED
    await session.flush()
    return reservation


async def expired(now: datetime, *, limit: int, session: AsyncSession) -> list[tuple[str, str]]:
    """Held reservations past their time, as (tenant, reservation id): their order was never
    committed, or nobody told us how it ended."""
    rows = await session.execute(
        select(ReservationRow.tenant_id, ReservationRow.id)
        .where(ReservationRow.status == ReservationStatus.HELD, ReservationRow.expires_at < now)
        .order_by(ReservationRow.expires_at)
        .limit(limit)
    )
    return [(tenant, reservation_id) for tenant, reservation_id in rows.tuples()]


async def expire(tenant: str, reservation_id: str, *, now: datetime, session: AsyncSession) -> bool:
    """Releases a reservation still held past its time; False when it was settled meanwhile."""
    reservation = await _locked(reservation_id, tenant, session=session)
    if reservation.status != ReservationStatus.HELD or reservation.expires_at >= now:
        return False
    await release(tenant, reservation_id, order_id=reservation.order_id, session=session)
    return True


async def _same_request(
    reservation: ReservationRow, order_id: str, quantities: Mapping[str, int], *, session: AsyncSession
) -> Held:
    """The reservation this key already made, when the request is the same one again."""
    if reservation.status == ReservationStatus.RELEASED:
        raise InvalidTransition("This reservation was released; reserve under a new key.")
    lines = await _lines(reservation.id, session=session)
    if reservation.order_id != order_id or {line.product_id: line.quantity for line in lines} != dict(quantities):
        raise Conflict("This reservation key was used for other lines.", field="reservationId")
    return Held(reservation, lines)


async def _claimed(
    tenant: str,
    reservation_id: str,
    order_id: str,
    status: ReservationStatus,
    expires_at: datetime,
    *,
    session: AsyncSession,
) -> tuple[bool, ReservationRow]:
    """The reservation under the key, locked; created in ``status`` when there was none (then
    the first value is True). A concurrent creator of the same key is waited for."""
    now = utcnow()
    created = await insert_if_absent(
        session,
        ReservationRow,
        {
            "id": reservation_id,
            "tenant_id": tenant,
            "order_id": order_id,
            "status": status,
            "expires_at": expires_at,
            "created_at": now,
            "updated_at": now,
        },
        unique=("id",),
    )
    return created, await _locked(reservation_id, tenant, session=session)


async def _locked(reservation_id: str, tenant: str, *, session: AsyncSession) -> ReservationRow:
    reservation = await session.get(ReservationRow, reservation_id, with_for_update=True, populate_existing=True)
    if reservation is None or reservation.tenant_id != tenant:
        # Another tenant's key: as good as absent, and never touched.
        raise Conflict("This reservation key belongs to another store.", field="reservationId")
    return reservation


async def _lines(reservation_id: str, *, session: AsyncSession) -> list[ReservationLineRow]:
    return list(
        await session.scalars(
            select(ReservationLineRow)
            .where(ReservationLineRow.reservation_id == reservation_id)
            .order_by(ReservationLineRow.product_id)
        )
    )


async def _locked_stock(tenant: str, product_ids: Sequence[str], *, session: AsyncSession) -> dict[str, StockRow]:
    rows = await session.scalars(
        select(StockRow)
        .where(StockRow.tenant_id == tenant, StockRow.product_id.in_(sorted(product_ids)))
        .order_by(StockRow.product_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return {row.product_id: row for row in rows}
