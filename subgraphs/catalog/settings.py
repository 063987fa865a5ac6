from pydantic_settings import SettingsConfigDict

from resolvers.settings import SubgraphSettings


class CatalogSettings(SubgraphSettings):
    model_config = SettingsConfigDict(env_prefix="SHOPGRAPH_CATALOG_", extra="ignore")

    name: str = "catalog"
    port: int = 4001
    database_url: str = "sqlite+aiosqlite:///var/catalog.db"
    # How often the worker gives back the stock of reservations past their time.
    reservation_sweep_seconds: float = 5.0
