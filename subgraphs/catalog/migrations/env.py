from resolvers.migrations import run_env
from subgraphs.catalog.tables import Base

run_env(Base.metadata, "catalog")
