from pydantic_settings import SettingsConfigDict

from resolvers.settings import SubgraphSettings


class CartsSettings(SubgraphSettings):
    model_config = SettingsConfigDict(env_prefix="SHOPGRAPH_CARTS_", extra="ignore")

    name: str = "carts"
    port: int = 4003
    database_url: str = "sqlite+aiosqlite:///var/carts.db"
    catalog_url: str = "http://127.0.0.1:4001"
