"""The settings every subgraph shares; each subgraph subclasses it with its own env prefix."""

from typing import Literal, Self

from pydantic import model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

Environment = Literal["development", "test", "production"]
DEVELOPMENT_SERVICE_SECRET = "shopgraph-services-secret"


class SubgraphSettings(BaseSettings):
    """Built once per process and passed down; tests construct it directly."""

    model_config = SettingsConfigDict(env_prefix="SHOPGRAPH_", extra="ignore")

    name: str
    environment: Environment = "development"
    host: str = "127.0.0.1"
    port: int
    database_url: str
    oidc_issuer: str = "http://127.0.0.1:4010"
    oidc_audience: str = "shopgraph"
    jwks_url: str = "http://127.0.0.1:4010/.well-known/jwks.json"
    # How this subgraph signs its calls to other services (OAuth client credentials).
    token_url: str = "http://127.0.0.1:4010/token"
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
    max_query_depth: int = 12
    sql_echo: bool = False

    @model_validator(mode="after")
    def _no_development_defaults_in_production(self) -> Self:
        if self.environment == "production":
            if self.default_tenant is not None:
                raise ValueError("default_tenant is for development; production requests name their tenant")
            if self.database_url.startswith("sqlite"):
                raise ValueError("production needs a server database, not SQLite")
            if self.service_client_secret == DEVELOPMENT_SERVICE_SECRET:
                raise ValueError("service_client_secret is the local provider's; set the real one")
        return self
