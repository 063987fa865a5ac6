from pydantic_settings import SettingsConfigDict

from resolvers.settings import SubgraphSettings


class OrdersSettings(SubgraphSettings):
    model_config = SettingsConfigDict(env_prefix="SHOPGRAPH_ORDERS_", extra="ignore")

    name: str = "orders"
    port: int = 4004
    database_url: str = "sqlite+aiosqlite:///var/orders.db"
