from pydantic_settings import SettingsConfigDict

from resolvers.settings import SubgraphSettings


class PaymentsSettings(SubgraphSettings):
    model_config = SettingsConfigDict(env_prefix="SHOPGRAPH_PAYMENTS_", extra="ignore")

    name: str = "payments"
    port: int = 4005
    database_url: str = "sqlite+aiosqlite:///var/payments.db"
