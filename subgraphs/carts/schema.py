from resolvers.schema import SubgraphSchema
from resolvers.settings import SubgraphSettings
from subgraphs.carts.mutations import Mutation
from subgraphs.carts.subscriptions import Subscription
from subgraphs.carts.types import Product, User


def build_schema(settings: SubgraphSettings) -> SubgraphSchema:
    return SubgraphSchema(
        mutation=Mutation,
        subscription=Subscription,
        types=[User, Product],
        settings=settings,
    )
