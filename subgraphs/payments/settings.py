from typing import Self

from pydantic import model_validator
from pydantic_settings import SettingsConfigDict

from resolvers.settings import SubgraphSettings

# The local Stripe test server's; production refuses them.
DEVELOPMENT_STRIPE_KEY = "sk_test_shopgraph"
DEVELOPMENT_WEBHOOK_SECRET = "whsec_shopgraph_development"


class PaymentsSettings(SubgraphSettings):
    model_config = SettingsConfigDict(env_prefix="SHOPGRAPH_PAYMENTS_", extra="ignore")

    name: str = "payments"
    port: int = 4005
    database_url: str = "sqlite+aiosqlite:///var/payments.db"
    # Stripe's API: https://api.stripe.com in production, the local test server otherwise.
    stripe_api_base: str = "http://127.0.0.1:4020"
    stripe_api_key: str = DEVELOPMENT_STRIPE_KEY
    stripe_webhook_secret: str = DEVELOPMENT_WEBHOOK_SECRET
    stripe_timeout_seconds: float = 10.0
    # A webhook signed longer ago than this is refused (a replay).
    webhook_tolerance_seconds: int = 300
    # A payment with no webhook this long after it was created is asked about at Stripe.
    webhook_grace_seconds: float = 60.0
    poll_every_seconds: float = 10.0

    @model_validator(mode="after")
    def _real_stripe_in_production(self) -> Self:
        if self.environment == "production" and (
            self.stripe_api_key == DEVELOPMENT_STRIPE_KEY or self.stripe_webhook_secret == DEVELOPMENT_WEBHOOK_SECRET
        ):
            raise ValueError("set the Stripe API key and webhook secret; the development ones are for the test server")
        return self
