from resolvers.schema import SubgraphSchema
from resolvers.settings import SubgraphSettings
from subgraphs.catalog.mutations import Mutation
from subgraphs.catalog.queries import Query
from subgraphs.catalog.subscriptions import Subscription
from subgraphs.catalog.types import Category, Product


def build_schema(settings: SubgraphSettings) -> SubgraphSchema:
    return SubgraphSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=[Product, Category],
        settings=settings,
    )
