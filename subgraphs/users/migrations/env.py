from resolvers.migrations import run_env
from subgraphs.users.tables import Base

run_env(Base.metadata, "users")
