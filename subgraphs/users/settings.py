from pydantic_settings import SettingsConfigDict

from resolvers.settings import SubgraphSettings


class UsersSettings(SubgraphSettings):
    model_config = SettingsConfigDict(env_prefix="SHOPGRAPH_USERS_", extra="ignore")

    name: str = "users"
    port: int = 4002
    database_url: str = "sqlite+aiosqlite:///var/users.db"
