from resolvers.schema import SubgraphSchema
from resolvers.settings import SubgraphSettings
from subgraphs.users.mutations import Mutation
from subgraphs.users.queries import Query
from subgraphs.users.types import User


def build_schema(settings: SubgraphSettings) -> SubgraphSchema:
    return SubgraphSchema(
        query=Query,
        mutation=Mutation,
        types=[User],
        settings=settings,
    )
