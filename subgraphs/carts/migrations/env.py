from resolvers.migrations import run_env
from subgraphs.carts.tables import Base

run_env(Base.metadata, "carts")
