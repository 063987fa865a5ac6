"""Checkout: the caller's cart becomes an order awaiting payment, with its stock held and its
PaymentIntent open.

    1. claim the idempotency key (a ``CheckoutRow``): the same key with the same input
       returns the first result, waiting while the first call still runs; other input is a
       CONFLICT; a call whose lease ran out (its process died) is taken over; a new key is
       refused while the shopper's unpaid orders already hold as much stock as one may
       (TOO_MANY_PENDING_CHECKOUTS)
    2. read the cart (carts) and re-price every line (catalog): an empty cart, an archived
       product, a total that differs from the one the shopper was shown, or too little
       stock each has its own code
    3. reserve the stock (catalog), under ``<order id>-<attempt>``
    4. open the payment (payments): one PaymentIntent per order attempt
    5. commit the order (PENDING_PAYMENT) with ``order.created`` and complete the key

No lock is held across a call to another service. When a step from the reservation on fails
(or the request is cancelled), the attempt is abandoned before the error is returned: its
reservation released and its payment voided, both idempotent, so a call that timed out but
went through is undone too. A checkout whose process dies leaves a reservation the catalog
releases when it expires, and an attempt the next call with the key abandons when it takes
over. A failed checkout deletes its key's row, so the same key may be sent again once the
cause is fixed.

``retry_payment`` runs steps 3 and 4 again for an order whose payment failed, under the
order's next attempt, taken under the order's lock before anything else.
"""

import asyncio
import hashlib
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson
import structlog
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from resolvers.context import Context
from resolvers.db import insert_if_absent, new_id, utcnow
from resolvers.errors import (
    BadUserInput,
    CartEmpty,
    Conflict,
    InsufficientStock,
    InvalidTransition,
    PriceChanged,
    ProductUnavailable,
)
from resolvers.money import Money
from subgraphs.orders import services
from subgraphs.orders.clients import CheckoutClients, ProductFacts
from subgraphs.orders.published import reservation_id
from subgraphs.orders.settings import OrdersSettings
from subgraphs.orders.tables import CheckoutRow, OrderRow, OrderStatus

log = structlog.get_logger(__name__)

WAIT_POLL_SECONDS = 0.05


@dataclass(frozen=True, slots=True)
class CheckoutRequest:
    idempotency_key: str
    shipping_address: dict[str, str | None]
    email: str
    note: str | None
    expected_total: Money | None

    def fingerprint(self) -> str:
        """What "the same input" means for the key: everything the shopper sent."""
        document = {
            "address": self.shipping_address,
            "email": self.email,
            "note": self.note,
            "expected": None
            if self.expected_total is None
            else [self.expected_total.amount, self.expected_total.currency],
        }
        return hashlib.sha256(orjson.dumps(document, option=orjson.OPT_SORT_KEYS)).hexdigest()


@dataclass(frozen=True, slots=True)
class Claim:
    """The checkout this call runs: its order id and attempt."""

    order_id: str
    attempt: int


class Checkout:
    def __init__(self, context: Context[Any], clients: CheckoutClients, settings: OrdersSettings) -> None:
        self.context = context
        self.clients = clients
        self.settings = settings
        self.tenant = context.tenant
        self.user_id = context.require_subject()

    async def run(self, request: CheckoutRequest) -> OrderRow:
        while True:
            claim_or_order = await self._claim(request)
            if isinstance(claim_or_order, OrderRow):
                return claim_or_order
            if claim_or_order is None:
                await asyncio.sleep(WAIT_POLL_SECONDS)
                continue
            claim = claim_or_order
            try:
                return await self._place(request, claim)
            except (Exception, asyncio.CancelledError):
                await self._forget(claim)
                raise

    async def _claim(self, request: CheckoutRequest) -> OrderRow | Claim | None:
        """This call's claim on the key; the order when the key already completed one; None
        while another call runs it."""
        now = utcnow()
        lease = now + timedelta(seconds=self.settings.checkout_lease_seconds)
        claim_id = new_id()
        async with self.context.transaction() as session:
            mine = await insert_if_absent(
                session,
                CheckoutRow,
                {
                    "id": claim_id,
                    "tenant_id": self.tenant,
                    "user_id": self.user_id,
                    "idempotency_key": request.idempotency_key,
                    "request_hash": request.fingerprint(),
                    "order_id": new_id(),
                    "attempt": 1,
                    "completed": False,
                    "lease_until": lease,
                    "created_at": now,
                },
                unique=("tenant_id", "user_id", "idempotency_key"),
            )
            row = await session.scalar(
                select(CheckoutRow)
                .where(
                    CheckoutRow.tenant_id == self.tenant,
                    CheckoutRow.user_id == self.user_id,
                    CheckoutRow.idempotency_key == request.idempotency_key,
                )
                .execution_options(populate_existing=True)
            )
            if row is None:  # completed-or-failed in between: look again
                return None
            if row.request_hash != request.fingerprint():
                raise Conflict("This idempotency key was used for a checkout with other input.", field="idempotencyKey")
            if row.completed:
                order = await session.get(OrderRow, row.order_id)
                assert order is not None
                return order
            if mine:
                await services.hold_another(
                    self.tenant,
                    self.user_id,
                    limit=self.settings.max_pending_checkouts,
                    now=now,
                    claim=claim_id,
                    session=session,
                )
                return Claim(row.order_id, row.attempt)
            if row.lease_until > now:
                return None
            # The call holding the key stopped answering (its process died): take it over
            # with the next attempt, whose reservation and payment are new.
            order_id, stale = row.order_id, row.attempt
            taken = await session.execute(
                update(CheckoutRow)
                .where(CheckoutRow.id == row.id, CheckoutRow.attempt == stale, CheckoutRow.completed.is_(False))
                .values(attempt=stale + 1, lease_until=lease)
            )
            if taken.rowcount != 1:  # type: ignore[attr-defined]
                return None
        log.warning("stale checkout taken over", order_id=order_id, attempt=stale + 1)
        # The old attempt can no longer commit (``_locked_claim`` refuses it): undo what it held.
        await self._abandon(order_id, stale)
        return Claim(order_id, stale + 1)

    async def _place(self, request: CheckoutRequest, claim: Claim) -> OrderRow:
        quantities = await self.clients.cart(self.tenant, self.user_id)
        if not quantities:
            raise CartEmpty("Your cart is empty.")
        products = await self.clients.products(self.tenant, list(quantities))
        drafts, total = self._priced(quantities, products, request.expected_total)
        now = utcnow()
        expires_at = now + timedelta(seconds=self.settings.payment_window_seconds)
        held_until = expires_at + timedelta(seconds=self.settings.reservation_grace_seconds)
        try:
            held = await self.clients.reserve(
                self.tenant,
                reservation_id(claim.order_id, claim.attempt),
                order_id=claim.order_id,
                quantities=quantities,
                expires_at=held_until,
            )
            moved = [d.product_id for d in drafts if held[d.product_id].amount != d.unit_price_amount]
            if moved:
                raise PriceChanged("A price changed during checkout; review your cart.", productIds=moved)
            await self.clients.open_payment(
                self.tenant, order_id=claim.order_id, attempt=claim.attempt, user_id=self.user_id, total=total
            )
            return await self._commit(request, claim, drafts, total, expires_at)
        except (Exception, asyncio.CancelledError):
            await self._abandon(claim.order_id, claim.attempt)
            raise

    async def retry_payment(self, order: OrderRow) -> OrderRow:
        """Holds the stock again and opens a new payment for an order whose payment failed;
        an order in any other status is answered as it is."""
        now = utcnow()
        async with self.context.transaction() as session:
            order = await services.locked(self.tenant, order.id, session=session)
            if order.status != OrderStatus.PAYMENT_FAILED:
                return order
            limit = self.settings.max_pending_checkouts
            await services.hold_another(
                self.tenant, order.user_id, limit=limit, now=now, order=order.id, session=session
            )
            # Claimed first: every try has keys of its own, and concurrent tries one winner.
            # Until it ends (or its process dies and the lease lapses) it holds stock.
            order.attempt += 1
            order.retrying_until = now + timedelta(seconds=self.settings.checkout_lease_seconds)
            attempt = order.attempt
            lines = await services.lines_of(order, session=session)
        quantities: Counter[str] = Counter()
        for line in lines:
            quantities[line.product_id] += line.quantity
        expires_at = utcnow() + timedelta(seconds=self.settings.payment_window_seconds)
        try:
            await self.clients.reserve(
                self.tenant,
                reservation_id(order.id, attempt),
                order_id=order.id,
                quantities=quantities,
                expires_at=expires_at + timedelta(seconds=self.settings.reservation_grace_seconds),
            )
            total = Money.of(order.total_amount, order.currency)
            await self.clients.open_payment(
                self.tenant, order_id=order.id, attempt=attempt, user_id=order.user_id, total=total
            )
            async with self.context.transaction() as session:
                order = await services.locked(self.tenant, order.id, session=session)
                if order.status != OrderStatus.PAYMENT_FAILED or order.attempt != attempt:
                    raise InvalidTransition(f"The order became {order.status} meanwhile.", status=order.status)
                order.expires_at = expires_at
                order.retrying_until = None
                return await services.move(
                    order, OrderStatus.PENDING_PAYMENT, reason="payment retried", session=session
                )
        except (Exception, asyncio.CancelledError):
            await self._abandon(order.id, attempt)
            await self._retry_ended(order.id, attempt)
            raise

    async def _retry_ended(self, order_id: str, attempt: int) -> None:
        """A retry that failed holds nothing any more (unless a later one took over)."""
        async with self.context.transaction() as session:
            await session.execute(
                update(OrderRow).where(OrderRow.id == order_id, OrderRow.attempt == attempt).values(retrying_until=None)
            )

    def _priced(
        self, quantities: dict[str, int], products: dict[str, ProductFacts], expected: Money | None
    ) -> tuple[list[services.LineDraft], Money]:
        """Order lines at the catalog's current prices, and their total; refuses what cannot
        be sold as the shopper saw it."""
        unavailable = [p for p in quantities if p not in products or not products[p].active]
        if unavailable:
            raise ProductUnavailable("Some products in your cart are no longer sold.", productIds=unavailable)
        currencies = Counter(products[p].price.currency for p in quantities)
        if len(currencies) > 1:
            raise BadUserInput("A cart's products must all be priced in one currency.")
        [currency] = currencies
        drafts = [
            services.LineDraft(
                product_id=p,
                sku=products[p].sku,
                name=products[p].name,
                unit_price_amount=products[p].price.amount,
                quantity=quantity,
            )
            for p, quantity in quantities.items()
        ]
        total = Money.of(sum(d.unit_price_amount * d.quantity for d in drafts), currency)
        if total.amount < 1:
            raise BadUserInput("A cart that costs nothing cannot be checked out; nothing would be paid.")
        if expected is not None and (expected.amount, expected.currency) != (total.amount, total.currency):
            raise PriceChanged(
                f"Your cart now totals {total.amount} {total.currency}, not {expected.amount} {expected.currency}.",
                field="expectedTotal",
                total={"amount": total.amount, "currency": total.currency},
                prices={d.product_id: d.unit_price_amount for d in drafts},
            )
        short = {p: products[p].available for p, q in quantities.items() if products[p].available < q}
        if short:
            raise InsufficientStock("Not enough stock for some products.", productIds=list(short), available=short)
        return drafts, total

    async def _commit(
        self,
        request: CheckoutRequest,
        claim: Claim,
        drafts: list[services.LineDraft],
        total: Money,
        expires_at: datetime,
    ) -> OrderRow:
        async with self.context.transaction() as session:
            checkout = await self._locked_claim(claim, session=session)
            order = await services.place_order(
                self.tenant,
                self.user_id,
                drafts,
                currency=total.currency,
                shipping_address=request.shipping_address,
                order_id=claim.order_id,
                attempt=claim.attempt,
                email=request.email,
                note=request.note,
                expires_at=expires_at,
                session=session,
            )
            checkout.completed = True
            if checkout.early_payment is not None:
                # Payments told us how it went before this transaction: apply it now.
                await services.payment_outcome(
                    self.tenant,
                    order,
                    attempt=claim.attempt,
                    succeeded=checkout.early_payment == "succeeded",
                    reason=None,
                    session=session,
                )
            return order

    async def _locked_claim(self, claim: Claim, *, session: AsyncSession) -> CheckoutRow:
        checkout = await _locked_checkout(self.tenant, claim.order_id, session=session)
        if checkout is None or checkout.attempt != claim.attempt or checkout.completed:
            # Another call took the key over while this one was slow: it places the order.
            raise Conflict("This checkout was taken over by a newer request with its key; try again.")
        return checkout

    async def _forget(self, claim: Claim) -> None:
        """Frees the key after a failure, unless a newer attempt holds it by now."""
        async with self.context.transaction() as session:
            await session.execute(
                delete(CheckoutRow).where(
                    CheckoutRow.order_id == claim.order_id,
                    CheckoutRow.attempt == claim.attempt,
                    CheckoutRow.completed.is_(False),
                )
            )

    async def _abandon(self, order_id: str, attempt: int) -> None:
        """Undoes an attempt that will not become a placed order: its reservation released, its
        payment voided. Both are idempotent and harmless for what never happened; when one
        fails anyway, the reservation expires and the payment is never shown to anyone."""
        outcomes = await asyncio.gather(
            self.clients.release(self.tenant, reservation_id(order_id, attempt), order_id=order_id),
            self.clients.void_payment(self.tenant, order_id=order_id, attempt=attempt),
            return_exceptions=True,
        )
        for step, outcome in zip(("release", "void"), outcomes, strict=True):
            if isinstance(outcome, BaseException):
                log.warning("undoing an abandoned attempt failed", step=step, order_id=order_id, error=repr(outcome))


async def record_early_outcome(
    tenant: str, order_id: str, *, attempt: int, succeeded: bool, session: AsyncSession
) -> OrderRow | None:
    """A payment outcome for an order not committed yet: kept on its checkout, which applies
    it when it commits. Returns the order when it was committed meanwhile (the checkout's
    lock was held until then), for the caller to apply the outcome itself."""
    checkout = await _locked_checkout(tenant, order_id, session=session)
    if checkout is None:
        log.warning("payment outcome for an unknown order", order_id=order_id)
        return None
    if checkout.completed:
        return await services.locked(tenant, order_id, session=session)
    if checkout.attempt == attempt:
        checkout.early_payment = "succeeded" if succeeded else "failed"
    return None


async def _locked_checkout(tenant: str, order_id: str, *, session: AsyncSession) -> CheckoutRow | None:
    checkout: CheckoutRow | None = await session.scalar(
        select(CheckoutRow)
        .where(CheckoutRow.tenant_id == tenant, CheckoutRow.order_id == order_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return checkout
