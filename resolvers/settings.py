"""The settings every subgraph shares; each subgraph subclasses it with its own env prefix."""

from typing import Literal, Self

from pydantic import model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

Environment = Literal["development", "test", "production"]
DEVELOPMENT_SERVICE_SECRET = "shopgraph-services-secret"
# The router signs its subgraph requests with this in development (router/gateway.config.ts
# has the same default); production refuses it on both sides.
DEVELOPMENT_ROUTER_SECRET = "shopgraph-router-development-secret"
# The local provider (devstack/oidc); production trusts its own.
DEVELOPMENT_ISSUER = "http://127.0.0.1:4010"
# An HMAC key shorter than this is guessable; `openssl rand -base64 32` makes a good one.
MIN_ROUTER_SECRET_LENGTH = 32


class SubgraphSettings(BaseSettings):
    """Built once per process and passed down; tests construct it directly."""

    model_config = SettingsConfigDict(env_prefix="SHOPGRAPH_", extra="ignore")

    name: str
    environment: Environment = "development"
    host: str = "127.0.0.1"
    port: int
    database_url: str
    oidc_issuer: str = DEVELOPMENT_ISSUER
    oidc_audience: str = "shopgraph"
    jwks_url: str = f"{DEVELOPMENT_ISSUER}/.well-known/jwks.json"
    # How this subgraph signs its calls to other services (OAuth client credentials).
    token_url: str = f"{DEVELOPMENT_ISSUER}/token"
    service_client_id: str = "shopgraph-services"
    service_client_secret: str = DEVELOPMENT_SERVICE_SECRET
    # Each internal call waits this long per attempt; a breaker opens after this many failed
    # calls in a row and stays open this long.
    service_timeout_seconds: float = 2.0
    breaker_threshold: int = 5
    breaker_seconds: float = 10.0
    # Lets GraphiQL users omit X-Tenant-Id while exploring; a production request must name
    # its tenant, so the validator below refuses a default there.
    default_tenant: str | None = None
    # One `_entities` call resolving more representations than this is refused: the router
    # never needs that many, and an unbounded list is a cheap way to make us load the table.
    max_representations: int = 1000
    # What one operation may ask for (resolvers/limits.py says how each is counted). The
    # router refuses tighter limits before it calls us; these are looser so that the
    # router's own requests (query plans, `_entities` batches) always pass, and they bound
    # whoever reaches a subgraph without the router.
    max_query_depth: int = 11
    max_fields: int = 300
    max_aliases: int = 60
    max_directives: int = 40
    max_tokens: int = 5000
    max_cost: int = 20_000
    # Request bodies above this are refused (413) before they are read whole or parsed.
    max_body_bytes: int = 1_048_576
    # The router signs every request it sends us with this shared secret (HMAC); production
    # answers the federation internals (`_entities`, `_service`) only to signed requests.
    router_hmac_secret: str = DEVELOPMENT_ROUTER_SECRET
    # Subscriptions (resolvers/live.py): the events one subscriber may fall behind by before
    # it is ended with SLOW_CONSUMER (more than the relay publishes at once, so a burst never
    # ends a subscriber that keeps up), and how many one caller may hold at a time in this
    # process (anonymous ones share one allowance per tenant).
    subscription_buffer: int = 1000
    max_subscriptions_per_caller: int = 20
    max_anonymous_subscriptions: int = 2000
    sql_echo: bool = False

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    @model_validator(mode="after")
    def _no_development_defaults_in_production(self) -> Self:
        if self.environment == "production":
            if self.default_tenant is not None:
                raise ValueError("default_tenant is for development; production requests name their tenant")
            if self.database_url.startswith("sqlite"):
                raise ValueError("production needs a server database, not SQLite")
            if self.service_client_secret == DEVELOPMENT_SERVICE_SECRET:
                raise ValueError("service_client_secret is the local provider's; set the real one")
            if self.router_hmac_secret == DEVELOPMENT_ROUTER_SECRET:
                raise ValueError("router_hmac_secret is the development one; set the secret the router signs with")
            if len(self.router_hmac_secret) < MIN_ROUTER_SECRET_LENGTH:
                raise ValueError(f"router_hmac_secret must be at least {MIN_ROUTER_SECRET_LENGTH} characters")
            local = [
                name for name in ("oidc_issuer", "jwks_url", "token_url") if DEVELOPMENT_ISSUER in getattr(self, name)
            ]
            if local:
                raise ValueError(f"{', '.join(local)} point at the local development provider; set your own")
        return self
