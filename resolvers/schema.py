"""The Federation schema every subgraph builds: version pinned, caches on, errors coded."""

from typing import Any, Final

import strawberry
from graphql import GraphQLError
from strawberry.extensions import AddValidationRules, ParserCache, QueryDepthLimiter, ValidationCache
from strawberry.federation.schema import FederationAny
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

from resolvers.errors import BadUserInput
from resolvers.money import LONG_SCALAR, Long

# The federation composer the router uses accepts up to 2.9; Strawberry defaults to newer.
FEDERATION_VERSION: Final = "2.9"
QUERY_CACHE_SIZE = 1024


class SubgraphSchema(strawberry.federation.Schema):
    """A Federation schema whose ``_entities`` refuses oversized batches."""

    def __init__(self, *, max_representations: int, max_query_depth: int, **options: Any) -> None:
        self.max_representations = max_representations
        # The depth rule is built once: the validation cache keys on the rule classes, and
        # QueryDepthLimiter makes a new class per instance, so a per-request limiter would
        # turn every validation into a cache miss.
        depth_rules = QueryDepthLimiter(max_depth=max_query_depth).validation_rules
        super().__init__(
            federation_version=FEDERATION_VERSION,
            extensions=[
                # Caching parse and validation by query text is the largest cheap win: both
                # cost milliseconds per request and the router sends the same texts over again.
                lambda: ParserCache(maxsize=QUERY_CACHE_SIZE),
                lambda: ValidationCache(maxsize=QUERY_CACHE_SIZE),
                lambda: AddValidationRules(depth_rules),
            ],
            config=StrawberryConfig(scalar_map={Long: LONG_SCALAR}),
            **options,
        )

    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        """Strawberry logs every error with a traceback; expected ones are the client's
        business, and ``to_graphql_error`` logs the unexpected ones."""

    def entities_resolver(self, info: strawberry.Info, representations: list[FederationAny]) -> list[FederationAny]:
        if len(representations) > self.max_representations:
            raise BadUserInput(f"At most {self.max_representations} representations per _entities call.")
        return super().entities_resolver(info, representations)
