from resolvers.schema import SubgraphSchema
from resolvers.settings import SubgraphSettings
from subgraphs.payments.mutations import Mutation
from subgraphs.payments.queries import Query
from subgraphs.payments.subscriptions import Subscription
from subgraphs.payments.types import Order, Payment


def build_schema(settings: SubgraphSettings) -> SubgraphSchema:
    return SubgraphSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=[Payment, Order],
        settings=settings,
    )
