"""Internal endpoints other services call with their own credentials, never the storefront:
product facts for carts and orders, and stock reservations for checkout."""

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from pydantic import AwareDatetime, BaseModel, Field, StrictInt

from resolvers.db import utcnow
from resolvers.errors import BadUserInput
from resolvers.internal import ServiceCaller, Tenant
from resolvers.runtime import runtime_of
from resolvers.validation import is_uuid
from subgraphs.catalog import reads, reservations
from subgraphs.catalog.tables import ReservationLineRow, ReservationRow

router = APIRouter(prefix="/internal/v1", tags=["internal"])

MAX_IDS = 200
# A reservation outlives its order's payment window by a margin; longer holds are a bug.
MAX_HOLD = timedelta(days=1)
ReservationKey = Annotated[str, Path(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._:-]+$")]


class PriceOut(BaseModel):
    amount: int
    currency: str


class ProductOut(BaseModel):
    id: str
    sku: str
    name: str
    active: bool
    price: PriceOut
    available: int


class ProductsOut(BaseModel):
    products: list[ProductOut]


class LineIn(BaseModel):
    product_id: str = Field(alias="productId")
    # Strict: a JSON true is not one unit.
    quantity: StrictInt = Field(ge=1, le=10_000)


OrderId = Annotated[
    str, Field(alias="orderId", pattern=r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
]


class ReserveIn(BaseModel):
    order_id: OrderId
    lines: list[LineIn] = Field(min_length=1, max_length=reservations.MAX_LINES)
    expires_at: AwareDatetime = Field(alias="expiresAt")


class ReleaseIn(BaseModel):
    order_id: OrderId


class ReservedLineOut(BaseModel):
    productId: str
    quantity: int
    unitPrice: PriceOut


class ReservationOut(BaseModel):
    id: str
    orderId: str
    status: str
    expiresAt: datetime
    lines: list[ReservedLineOut]


@router.get("/products", response_model=ProductsOut, summary="Current price, status and availability of products")
async def products(
    request: Request, _service: ServiceCaller, tenant: Tenant, ids: Annotated[list[str], Query(max_length=MAX_IDS)]
) -> ProductsOut:
    """Products the tenant has among ``ids``; unknown ids are simply absent."""
    runtime = runtime_of(request)
    wanted = [i for i in dict.fromkeys(ids) if is_uuid(i)]
    async with runtime.db() as session:
        found = await reads.views_by_ids(tenant, wanted, session=session) if wanted else []
    return ProductsOut(
        products=[
            ProductOut(
                id=view.product.id,
                sku=view.product.sku,
                name=view.product.name,
                active=view.product.active,
                price=PriceOut(amount=view.product.price_amount, currency=view.product.currency),
                available=view.stock.available,
            )
            for view in found
        ]
    )


@router.put(
    "/reservations/{reservation_id}",
    response_model=ReservationOut,
    summary="Hold stock for an order (idempotent by key)",
    responses={409: {"description": "PRODUCT_UNAVAILABLE, INSUFFICIENT_STOCK, or the key used otherwise"}},
)
async def reserve(
    request: Request, _service: ServiceCaller, tenant: Tenant, reservation_id: ReservationKey, body: ReserveIn
) -> ReservationOut:
    """Holds every line or none, at the products' current prices. The same key with the same
    request answers with the reservation it already made."""
    quantities: dict[str, int] = {}
    for line in body.lines:
        if not is_uuid(line.product_id) or line.product_id in quantities:
            raise BadUserInput("Each line names a different product by its id.", field="lines")
        quantities[line.product_id] = line.quantity
    if not utcnow() < body.expires_at <= utcnow() + MAX_HOLD:
        raise BadUserInput("expiresAt must be in the next 24 hours.", field="expiresAt")
    async with runtime_of(request).writer.begin() as session:
        held = await reservations.reserve(
            tenant,
            reservation_id,
            order_id=body.order_id,
            quantities=quantities,
            expires_at=body.expires_at,
            session=session,
        )
        return _out(held.reservation, held.lines)


@router.post("/reservations/{reservation_id}/release", response_model=ReservationOut, summary="Give held stock back")
async def release(
    request: Request, _service: ServiceCaller, tenant: Tenant, reservation_id: ReservationKey, body: ReleaseIn
) -> ReservationOut:
    """Idempotent; releasing a key never reserved stops a late reserve under it."""
    async with runtime_of(request).writer.begin() as session:
        row = await reservations.release(tenant, reservation_id, order_id=body.order_id, session=session)
        return _out(row, [])


def _out(row: ReservationRow, lines: Sequence[ReservationLineRow]) -> ReservationOut:
    return ReservationOut(
        id=row.id,
        orderId=row.order_id,
        status=row.status,
        expiresAt=row.expires_at,
        lines=[
            ReservedLineOut(
                productId=line.product_id,
                quantity=line.quantity,
                unitPrice=PriceOut(amount=line.unit_price_amount, currency=line.currency),
            )
            for line in lines
        ],
    )
