"""Internal endpoints other services call with their own credentials: checkout opens the
payment of an order's attempt here."""

from typing import Annotated

from fastapi import APIRouter, Path, Request
from pydantic import BaseModel, Field, StrictInt

from resolvers.internal import UUID_PATTERN, ServiceCaller, Tenant
from resolvers.runtime import runtime_of
from subgraphs.payments import services
from subgraphs.payments.gateway import StripeGateway

router = APIRouter(prefix="/internal/v1", tags=["internal"])


class MoneyIn(BaseModel):
    # Strict: a JSON true is not one cent.
    amount: StrictInt = Field(ge=1)
    currency: str = Field(pattern=r"^[A-Z]{3}$")


class OpenPaymentIn(BaseModel):
    user_id: str = Field(alias="userId", min_length=1, max_length=255)
    amount: MoneyIn


class PaymentOut(BaseModel):
    id: str
    status: str
    providerRef: str
    clientSecret: str | None


OrderId = Annotated[str, Path(pattern=UUID_PATTERN)]
Attempt = Annotated[int, Path(ge=1, le=1000)]


@router.put(
    "/orders/{order_id}/payments/{attempt}",
    response_model=PaymentOut,
    summary="Open the payment of an order's attempt (idempotent)",
)
async def open_payment(
    request: Request,
    _service: ServiceCaller,
    tenant: Tenant,
    order_id: OrderId,
    attempt: Attempt,
    body: OpenPaymentIn,
) -> PaymentOut:
    """Creates the PaymentIntent on the first call; every later call for the same attempt
    answers with the same payment and client secret."""
    runtime = runtime_of(request)
    gateway: StripeGateway = runtime.extra
    async with runtime.writer.begin() as session:
        payment = await services.open_intent(
            tenant,
            order_id=order_id,
            attempt=attempt,
            user_id=body.user_id,
            amount=body.amount.amount,
            currency=body.amount.currency,
            gateway=gateway,
            session=session,
        )
        assert payment.provider_ref is not None
        return PaymentOut(
            id=payment.id, status=payment.status, providerRef=payment.provider_ref, clientSecret=payment.client_secret
        )


class VoidedOut(BaseModel):
    status: str | None


@router.post(
    "/orders/{order_id}/payments/{attempt}/void",
    response_model=VoidedOut,
    summary="End an attempt that will not be paid (idempotent)",
)
async def void_payment(
    request: Request, _service: ServiceCaller, tenant: Tenant, order_id: OrderId, attempt: Attempt
) -> VoidedOut:
    """Cancels the attempt's intent (refunding it if it was paid anyway); an attempt that never
    opened a payment has nothing to void."""
    runtime = runtime_of(request)
    async with runtime.writer.begin() as session:
        payment = await services.void(tenant, order_id, attempt, gateway=runtime.extra, session=session)
        return VoidedOut(status=payment.status if payment else None)
