from resolvers.migrations import run_env
from subgraphs.payments.tables import Base

run_env(Base.metadata, "payments")
