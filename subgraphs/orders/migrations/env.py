from resolvers.migrations import run_env
from subgraphs.orders.tables import Base

run_env(Base.metadata, "orders")
