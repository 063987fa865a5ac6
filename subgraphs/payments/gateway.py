"""Stripe, through the real ``stripe`` SDK's async client: PaymentIntents and refunds. Its base
URL is a setting (Stripe's own in production, the local test server elsewhere).

Every create carries an idempotency key: an intent's is derived from its order attempt, so
Stripe itself never makes a second intent for one attempt; a refund's from its id (derived
from the caller's key when there is one). The
test server ignores those keys; the callers' own guarantees (a locked row per order attempt,
per payment) hold without them.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import stripe
import structlog

from resolvers.errors import Conflict, Unavailable
from subgraphs.payments.settings import PaymentsSettings

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Intent:
    """What we keep of a PaymentIntent."""

    id: str
    status: str
    client_secret: str | None
    failure: dict[str, str] | None

    @classmethod
    def of(cls, intent: dict[str, Any]) -> "Intent":
        """From a PaymentIntent as Stripe sends it (an API answer or a webhook's object)."""
        error = intent.get("last_payment_error")
        failure = {"code": str(error.get("code") or ""), "message": str(error.get("message") or "")} if error else None
        return cls(id=intent["id"], status=intent["status"], client_secret=intent.get("client_secret"), failure=failure)


class StripeGateway:
    def __init__(self, client: stripe.StripeClient) -> None:
        self._client = client

    @classmethod
    @asynccontextmanager
    async def open(cls, settings: PaymentsSettings) -> AsyncIterator["StripeGateway"]:
        http = stripe.HTTPXClient(timeout=settings.stripe_timeout_seconds)
        client = stripe.StripeClient(
            settings.stripe_api_key,
            base_addresses={"api": settings.stripe_api_base},
            http_client=http,
            max_network_retries=2,
        )
        try:
            yield cls(client)
        finally:
            await http.close_async()  # type: ignore[no-untyped-call]

    async def create_intent(
        self, *, amount: int, currency: str, metadata: dict[str, str], idempotency_key: str
    ) -> Intent:
        intent = await self._call(
            self._client.v1.payment_intents.create_async(
                params={"amount": amount, "currency": currency.lower(), "metadata": metadata},
                options={"idempotency_key": idempotency_key},
            )
        )
        return Intent.of(intent.to_dict())

    async def intent(self, intent_id: str) -> Intent:
        return Intent.of((await self._call(self._client.v1.payment_intents.retrieve_async(intent_id))).to_dict())

    async def cancel(self, intent_id: str) -> Intent:
        return Intent.of((await self._call(self._client.v1.payment_intents.cancel_async(intent_id))).to_dict())

    async def refund(self, intent_id: str, amount: int, *, idempotency_key: str) -> str:
        refund = await self._call(
            self._client.v1.refunds.create_async(
                params={"payment_intent": intent_id, "amount": amount}, options={"idempotency_key": idempotency_key}
            )
        )
        return str(refund.id)

    @staticmethod
    async def _call(request: Any) -> Any:
        """Stripe's answer; its refusals (a 4xx) as CONFLICT with Stripe's message, and its
        silence or failure as SERVICE_UNAVAILABLE."""
        try:
            return await request
        except stripe.InvalidRequestError as exc:
            raise Conflict(f"Stripe refused: {exc.user_message or exc}", stripeCode=exc.code) from exc
        except stripe.StripeError as exc:
            log.warning("stripe call failed", error=repr(exc))
            raise Unavailable("Stripe is not answering; try again shortly.") from exc
