"""``POST /webhooks/stripe``: what Stripe tells us about PaymentIntents.

The body's size is bounded before anything reads it (resolvers.body_limit), and the
signature is checked before the body is parsed (``stripe.WebhookSignature``: the shared
secret, and a timestamp no older than the tolerance, so a captured delivery cannot be
replayed later). Each
Stripe event id is recorded in the transaction of its effect, so a repeated delivery is
answered 200 and changes nothing. Events may arrive in any order: an event only says that its
intent changed, so the intent is read again from Stripe (a late "failed" cannot undo a later
success), and ``services.settle`` never moves a payment backwards. When Stripe cannot be
asked, the answer is 503 and Stripe delivers the event again later.
"""

import stripe
import structlog
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, ValidationError

from resolvers.db import insert_if_absent, utcnow
from resolvers.errors import Conflict, Unavailable
from resolvers.problems import problem
from resolvers.runtime import runtime_of
from subgraphs.payments import services
from subgraphs.payments.gateway import Intent, StripeGateway
from subgraphs.payments.settings import PaymentsSettings
from subgraphs.payments.tables import StripeEventRow

log = structlog.get_logger(__name__)

router = APIRouter(tags=["webhooks"])

INTENT_EVENTS = frozenset(
    {
        "payment_intent.succeeded",
        "payment_intent.payment_failed",
        "payment_intent.canceled",
        "payment_intent.processing",
    }
)


class _Subject(BaseModel):
    id: str = Field(min_length=1, max_length=255)


class _Data(BaseModel):
    object: _Subject


class StripeEvent(BaseModel):
    """What we read of a Stripe event; the rest of it is Stripe's business."""

    # As long as the columns that keep them (StripeEventRow).
    id: str = Field(min_length=1, max_length=255)
    type: str = Field(min_length=1, max_length=100)
    data: _Data


@router.post("/webhooks/stripe", summary="Stripe's signed events", response_model=None)
async def stripe_webhook(request: Request) -> JSONResponse:
    runtime = runtime_of(request)
    settings = runtime.settings
    assert isinstance(settings, PaymentsSettings)
    payload = await request.body()
    try:
        stripe.WebhookSignature.verify_header(
            payload,
            request.headers.get("stripe-signature"),
            settings.stripe_webhook_secret,
            settings.webhook_tolerance_seconds,
        )
    except stripe.SignatureVerificationError as exc:
        log.warning("stripe webhook refused", reason=exc.user_message or "signature")
        return problem(400, f"The Stripe signature does not verify: {exc.user_message or exc}", code="BAD_SIGNATURE")
    except UnicodeDecodeError:
        return problem(400, "The body is not UTF-8 text.", code="BAD_USER_INPUT")
    try:
        # Signed by Stripe, and still parsed as carefully as anyone's input: a body that is
        # not an event of the shape we read is refused, never half-processed.
        event = StripeEvent.model_validate_json(payload)
    except ValidationError as exc:
        return problem(400, f"The body is not a Stripe event: {exc.errors()[0]['msg']}", code="BAD_USER_INPUT")
    gateway: StripeGateway = runtime.extra
    intent: Intent | None = None
    if event.type in INTENT_EVENTS:
        try:
            intent = await gateway.intent(event.data.object.id)
        except Unavailable as exc:
            return problem(503, exc.message, code=exc.code)
        except Conflict:
            log.warning("webhook for an intent Stripe does not know", event_id=event.id)
    async with runtime.writer.begin() as session:
        first = await insert_if_absent(
            session,
            StripeEventRow,
            {"id": event.id, "type": event.type, "received_at": utcnow()},
            unique=("id",),
        )
        if not first:
            return JSONResponse({"received": True, "duplicate": True})
        if intent is not None:
            payment = await services.locked_by_intent(intent.id, session=session)
            if payment is None:
                # Not ours, or its creating transaction has not committed yet: the poller asks
                # Stripe about every unsettled payment of ours, so nothing is lost.
                log.warning("webhook for an unknown intent", intent_id=intent.id, type=event.type)
            else:
                changed = await services.settle(payment, intent, gateway=gateway, session=session)
                row = await session.get(StripeEventRow, event.id)
                assert row is not None
                row.payment_id = payment.id
                log.info("stripe webhook", type=event.type, payment_id=payment.id, changed=changed)
    return JSONResponse({"received": True})
