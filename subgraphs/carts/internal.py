"""Internal endpoints other services call with their own credentials: what a shopper's open
cart holds, for checkout."""

from typing import Annotated

from fastapi import APIRouter, Path, Request
from pydantic import BaseModel

from resolvers.internal import ServiceCaller, Tenant
from resolvers.runtime import runtime_of
from subgraphs.carts import services

router = APIRouter(prefix="/internal/v1", tags=["internal"])


class CartLineOut(BaseModel):
    productId: str
    quantity: int


class CartOut(BaseModel):
    lines: list[CartLineOut]


@router.get("/users/{user_id}/cart", response_model=CartOut, summary="A shopper's open cart")
async def open_cart(
    request: Request, _service: ServiceCaller, tenant: Tenant, user_id: Annotated[str, Path(max_length=255)]
) -> CartOut:
    """The lines of the shopper's open cart; no cart is an empty one."""
    async with runtime_of(request).db() as session:
        lines = await services.open_cart_lines(tenant, user_id, session=session)
    return CartOut(
        lines=[CartLineOut(productId=line.product_id, quantity=line.quantity) for line in lines],
    )
