"""Internal endpoints other services call with their own credentials, never the storefront."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel

from resolvers.app import runtime_of
from resolvers.internal import tenant_header
from resolvers.validation import is_uuid
from subgraphs.catalog import reads

router = APIRouter(prefix="/internal/v1", tags=["internal"])

MAX_IDS = 200


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


@router.get("/products", response_model=ProductsOut, summary="Current price, status and availability of products")
async def products(
    request: Request,
    tenant: Annotated[str, Depends(tenant_header)],
    ids: Annotated[list[str], Query(max_length=MAX_IDS)],
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
