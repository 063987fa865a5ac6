"""Payment rules. Functions take a keyword-only ``session`` and never commit.

A payment is one attempt to pay an order: one PaymentIntent. Stripe is the truth about an
intent; we learn it from webhooks, from polling when no webhook comes, and from our own calls.
Whatever the source and order of arrival, ``settle`` applies it under the payment's row lock:
SUCCEEDED is final (a late "failed" about an intent that then succeeded changes nothing),
and each outcome is published once. A payment whose order attempt ended unpaid is voided: its
intent cancelled, or, when it took money anyway, refunded in full.
"""

import uuid
from datetime import datetime, timedelta

import structlog
from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from resolvers.db import insert_if_absent, new_id, utcnow
from resolvers.errors import BadUserInput, Conflict, InvalidTransition, NotFound, RefundExceedsCaptured
from resolvers.money import check_amount, check_currency
from subgraphs.payments import published
from subgraphs.payments.gateway import Intent, StripeGateway
from subgraphs.payments.tables import PaymentRow, PaymentStatus, RefundRow

log = structlog.get_logger(__name__)

# Refund ids derived from a payment and the caller's key, so the same key finds the same refund.
REFUND_KEYS = uuid.UUID("5f0b1c2e-8d4a-4e6b-9a7c-3d2e1f0a9b8c")
CAPTURED = frozenset({PaymentStatus.SUCCEEDED, PaymentStatus.PARTIALLY_REFUNDED, PaymentStatus.REFUNDED})
UNSETTLED = frozenset({PaymentStatus.REQUIRES_PAYMENT_METHOD, PaymentStatus.PROCESSING})


def intent_key(order_id: str, attempt: int) -> str:
    """Stripe's idempotency key for an order's attempt: a retried checkout never makes a
    second intent at Stripe."""
    return f"shopgraph-order-{order_id}-attempt-{attempt}"


async def open_intent(
    tenant: str,
    *,
    order_id: str,
    attempt: int,
    user_id: str,
    amount: int,
    currency: str,
    gateway: StripeGateway,
    session: AsyncSession,
) -> PaymentRow:
    """The payment of an order's attempt, with its PaymentIntent; made on the first call, found
    on every later one. The row is claimed before Stripe is asked and locked while it is, so
    concurrent calls for one attempt wait for the first instead of asking Stripe again."""
    now = utcnow()
    await insert_if_absent(
        session,
        PaymentRow,
        {
            "id": new_id(),
            "tenant_id": tenant,
            "order_id": order_id,
            "attempt": attempt,
            "user_id": user_id,
            "amount": check_amount(amount, field="amount"),
            "currency": check_currency(currency),
            "refunded_amount": 0,
            "status": PaymentStatus.REQUIRES_PAYMENT_METHOD,
            "created_at": now,
            "updated_at": now,
        },
        unique=("tenant_id", "order_id", "attempt"),
    )
    payment = await _locked_attempt(tenant, order_id, attempt, session=session)
    assert payment is not None
    if (payment.user_id, payment.amount, payment.currency) != (user_id, amount, currency):
        raise Conflict("This order's attempt was opened for another amount or payer.", field="attempt")
    if payment.provider_ref is None:
        intent = await gateway.create_intent(
            amount=amount,
            currency=currency,
            # The same parameters on every try: Stripe refuses a reused key with other ones.
            metadata={"tenant": tenant, "order_id": order_id, "attempt": str(attempt)},
            idempotency_key=intent_key(order_id, attempt),
        )
        payment.provider_ref = intent.id
        payment.client_secret = intent.client_secret
        await session.flush()
    return payment


async def _locked_attempt(tenant: str, order_id: str, attempt: int, *, session: AsyncSession) -> PaymentRow | None:
    payment: PaymentRow | None = await session.scalar(
        select(PaymentRow)
        .where(PaymentRow.tenant_id == tenant, PaymentRow.order_id == order_id, PaymentRow.attempt == attempt)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return payment


async def locked_by_intent(intent_id: str, *, session: AsyncSession) -> PaymentRow | None:
    payment: PaymentRow | None = await session.scalar(
        select(PaymentRow)
        .where(PaymentRow.provider_ref == intent_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return payment


async def settle(payment: PaymentRow, intent: Intent, *, gateway: StripeGateway, session: AsyncSession) -> bool:
    """Brings a locked payment to what Stripe says of its intent; True when that changed it.
    Publishes ``payment.success`` or ``payment.failed`` on the change that earns it, and gives
    back at once money taken for an attempt that was voided meanwhile."""
    if payment.status in CAPTURED or payment.status == PaymentStatus.CANCELLED:
        return False  # final: whatever arrives late about the intent changes nothing
    if intent.status == "succeeded":
        payment.status = PaymentStatus.SUCCEEDED
        payment.failure_message = None
        await session.flush()
        await published.payment_succeeded(session, payment)
        if payment.void_requested:
            log.warning("paid after its order attempt ended; refunding", payment_id=payment.id)
            await refund(payment.tenant_id, payment.id, payment.amount, gateway=gateway, session=session)
        return True
    if intent.status == "canceled":
        if payment.status == PaymentStatus.FAILED:
            return False  # cancelled because it failed: "failed" says more
        payment.status = PaymentStatus.CANCELLED
    elif intent.status == "processing":
        payment.status = PaymentStatus.PROCESSING
    elif intent.status == "requires_payment_method" and intent.failure and payment.status != PaymentStatus.FAILED:
        payment.status = PaymentStatus.FAILED
        payment.failure_message = intent.failure.get("message") or intent.failure.get("code")
        await session.flush()
        await published.payment_failed(session, payment, intent.failure)
        return True
    else:
        return False
    await session.flush()
    return True


async def void(
    tenant: str, order_id: str, attempt: int, *, gateway: StripeGateway, session: AsyncSession
) -> PaymentRow | None:
    """The order's attempt ended without a sale (failed, cancelled, expired, abandoned): its
    intent is cancelled so nobody can pay it any more. An intent Stripe is still processing
    cannot be cancelled; the payment stays marked, and ``settle`` refunds it if it succeeds."""
    payment = await _locked_attempt(tenant, order_id, attempt, session=session)
    if payment is None or payment.provider_ref is None or payment.status in CAPTURED - {PaymentStatus.SUCCEEDED}:
        return payment
    payment.void_requested = True
    await session.flush()
    intent = await gateway.intent(payment.provider_ref)
    if intent.status not in ("succeeded", "processing", "canceled"):
        intent = await gateway.cancel(payment.provider_ref)
    if payment.status == PaymentStatus.SUCCEEDED:
        await refund(tenant, payment.id, payment.amount - payment.refunded_amount, gateway=gateway, session=session)
    else:
        await settle(payment, intent, gateway=gateway, session=session)
    return payment


async def refund(
    tenant: str,
    payment_id: str,
    amount: int,
    *,
    idempotency_key: str | None = None,
    gateway: StripeGateway,
    session: AsyncSession,
) -> PaymentRow:
    """Gives ``amount`` back, never more than was captured and not yet refunded. The payment's
    row stays locked while Stripe refunds, so two refunds at once cannot both pass the check.
    A refund sent again with its ``idempotency_key`` finds the first and refunds nothing more."""
    if amount < 1:
        raise BadUserInput("amount must be at least 1.", field="amount")
    payment = await session.get(PaymentRow, payment_id, with_for_update=True, populate_existing=True)
    if payment is None or payment.tenant_id != tenant:
        raise NotFound("No such payment.", field="paymentId")
    refund_id = str(uuid.uuid5(REFUND_KEYS, f"{payment.id}/{idempotency_key}")) if idempotency_key else new_id()
    earlier = await session.get(RefundRow, refund_id)
    if earlier is not None:
        if earlier.amount != amount:
            raise Conflict("This idempotency key was used for a refund of another amount.", field="idempotencyKey")
        return payment
    if payment.status not in CAPTURED:
        raise InvalidTransition("Only a captured payment can be refunded.", status=payment.status)
    refundable = payment.amount - payment.refunded_amount
    if amount > refundable:
        raise RefundExceedsCaptured(
            f"At most {refundable} can still be refunded.", field="amount", refundable=refundable
        )
    assert payment.provider_ref is not None
    provider_ref = await gateway.refund(payment.provider_ref, amount, idempotency_key=f"shopgraph-refund-{refund_id}")
    row = RefundRow(
        id=refund_id,
        payment_id=payment.id,
        tenant_id=tenant,
        provider_ref=provider_ref,
        amount=amount,
        status="succeeded",
    )
    session.add(row)
    payment.refunded_amount += amount
    payment.status = (
        PaymentStatus.REFUNDED if payment.refunded_amount == payment.amount else PaymentStatus.PARTIALLY_REFUNDED
    )
    await session.flush()
    await published.payment_refunded(session, payment, row)
    return payment


async def due_for_polling(now: datetime, *, grace: timedelta, limit: int, session: AsyncSession) -> list[str]:
    """Payments still waiting for Stripe's word whose time to ask has come, most overdue
    first: their webhook was lost, or never sent."""
    rows = await session.scalars(
        select(PaymentRow.provider_ref)
        .where(
            PaymentRow.status.in_(UNSETTLED),
            PaymentRow.provider_ref.is_not(None),
            or_(
                PaymentRow.next_check_at < now,
                and_(PaymentRow.next_check_at.is_(None), PaymentRow.created_at < now - grace),
            ),
        )
        .order_by(PaymentRow.next_check_at.is_not(None), PaymentRow.next_check_at, PaymentRow.created_at)
        .limit(limit)
    )
    return [ref for ref in rows if ref is not None]


def next_check(payment: PaymentRow, now: datetime, *, every: timedelta, at_most: timedelta) -> datetime:
    """Asked about often while young, then less and less: a quarter of its age, within bounds.
    An open intent nobody pays is asked about a few dozen times in its order's life, not
    hundreds."""
    return now + min(max(every, (now - payment.created_at) / 4), at_most)


async def record_payment(
    tenant: str,
    *,
    order_id: str,
    user_id: str,
    provider_ref: str,
    amount: int,
    currency: str,
    status: PaymentStatus,
    client_secret: str | None = None,
    session: AsyncSession,
) -> PaymentRow:
    """A payment settled elsewhere (the demo store's history)."""
    row = PaymentRow(
        tenant_id=tenant,
        order_id=order_id,
        user_id=user_id,
        provider_ref=provider_ref,
        client_secret=client_secret,
        amount=check_amount(amount, field="amount"),
        currency=check_currency(currency),
        status=status,
    )
    session.add(row)
    await session.flush()
    return row
