from resolvers.schema import SubgraphSchema
from resolvers.settings import SubgraphSettings
from subgraphs.orders.mutations import Mutation
from subgraphs.orders.queries import Query
from subgraphs.orders.subscriptions import Subscription
from subgraphs.orders.types import Order, Product, User


def build_schema(settings: SubgraphSettings) -> SubgraphSchema:
    return SubgraphSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=[Order, User, Product],
        settings=settings,
    )
