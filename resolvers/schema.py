"""The Federation schema every subgraph builds: version pinned, caches on, limits enforced,
representations checked, errors coded."""

from functools import lru_cache, partial
from typing import Any, Final, cast

import strawberry
from graphql import ASTValidationRule, DocumentNode, GraphQLError, specified_rules, validate
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.federation.schema import FederationAny
from strawberry.federation.schema_directives import Key
from strawberry.federation.schema_directives import ListSize as ListSizeDirective
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.types import ExecutionContext
from strawberry.types.base import StrawberryObjectDefinition

from resolvers import limits
from resolvers.errors import BadUserInput
from resolvers.guard import CACHED_TEXT_CHARS, QUERY_CACHE_SIZE, OperationGuard, parsed
from resolvers.money import LONG_SCALAR, Long
from resolvers.settings import SubgraphSettings
from resolvers.sockets import SocketOperations

# The federation composer the router uses accepts up to 2.9; Strawberry defaults to newer.
FEDERATION_VERSION: Final = "2.9"


class PerEventExecutor(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's executor, with a memo of its own for each subscription event.

    graphql-core (3.3) builds each event's executor as a shallow copy of the subscription's,
    so all share one memo of collected subfields, keyed by field lists collected anew for
    every event: a subscription grew by an entry per event (about 2.4 KB) for as long as it
    lived, and its process's garbage collections grew longer with it.
    """

    def build_per_event_executor(self, payload: Any) -> "PerEventExecutor":
        executor = cast(PerEventExecutor, super().build_per_event_executor(payload))
        executor._relevant_sub_fields = {}
        return executor


class SubgraphSchema(strawberry.federation.Schema):
    """A Federation schema that enforces the operation limits of its settings, refuses
    malformed or oversized ``_entities`` calls, and in production answers no introspection."""

    def __init__(self, *, settings: SubgraphSettings, **options: Any) -> None:
        self.max_representations = settings.max_representations
        self.router_secret = settings.router_hmac_secret
        self.router_only = settings.is_production
        self.limits = limits.Limits(
            depth=settings.max_query_depth,
            fields=settings.max_fields,
            aliases=settings.max_aliases,
            directives=settings.max_directives,
            tokens=settings.max_tokens,
            cost=settings.max_cost,
        )
        self.rules: tuple[type[ASTValidationRule], ...] = tuple(specified_rules)
        if settings.is_production:
            self.rules = (*self.rules, NoSchemaIntrospectionCustomRule)
        self._validated = lru_cache(maxsize=QUERY_CACHE_SIZE)(self._validate_text)
        # Made per request; it parses and validates through caches of its own. (A benchmark
        # of what it costs swaps it for Strawberry's plain caches.)
        self.guard = partial(OperationGuard, self)
        super().__init__(
            federation_version=FEDERATION_VERSION,
            extensions=[self.guard, partial(SocketOperations, hide_suggestions=settings.is_production)],
            config=StrawberryConfig(scalar_map={Long: LONG_SCALAR}, disable_field_suggestions=settings.is_production),
            execution_context_class=PerEventExecutor,
            **options,
        )
        self.cost = limits.CostEstimator(self._schema, self._list_sizes())
        self._entity_keys = self._keys_by_entity()

    def validation_errors(self, query: str, document: DocumentNode) -> list[GraphQLError]:
        """The document's own limits, then, within them, the specification's rules (whose
        cost grows with the square of the fields); cached by text unless the text is long."""
        if len(query) <= CACHED_TEXT_CHARS:
            return self._validated(query)
        return self._validate(document)

    def _validate_text(self, query: str) -> list[GraphQLError]:
        return self._validate(parsed(query, self.limits.tokens))

    def _validate(self, document: DocumentNode) -> list[GraphQLError]:
        return limits.document_errors(document, self.limits) or validate(self._schema, document, self.rules)

    def _list_sizes(self) -> dict[tuple[str, str], limits.ListSize]:
        """Every field's ``@listSize``, by its type's and its own GraphQL names."""
        found = {}
        for type_name, graphql_type in self.schema_converter.type_map.items():
            definition = graphql_type.definition
            if not isinstance(definition, StrawberryObjectDefinition):
                continue
            for field in definition.fields:
                for directive in field.directives:
                    if isinstance(directive, ListSizeDirective):
                        found[type_name, self.config.name_converter.get_graphql_name(field)] = limits.ListSize(
                            assumed=directive.assumed_size or None,
                            slicing=tuple(directive.slicing_arguments or ()),
                            sized_fields=tuple(directive.sized_fields or ()),
                        )
        return found

    def _keys_by_entity(self) -> dict[str, frozenset[str]]:
        """The key fields of each entity this subgraph resolves or references."""
        keys: dict[str, frozenset[str]] = {}
        for type_name, graphql_type in self.schema_converter.type_map.items():
            definition = graphql_type.definition
            if isinstance(definition, StrawberryObjectDefinition):
                for directive in definition.directives or ():
                    if isinstance(directive, Key):
                        keys[type_name] = keys.get(type_name, frozenset()) | frozenset(str(directive.fields).split())
        return keys

    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        """Strawberry logs every error with a traceback; expected ones are the client's
        business, and ``to_graphql_error`` logs the unexpected ones."""

    def entities_resolver(self, info: strawberry.Info, representations: list[FederationAny]) -> list[FederationAny]:
        """Resolves what the router asks for, after checking each representation's shape:
        an object naming one of our entities by ``__typename`` and carrying exactly its key,
        as text. Anything else is that representation's BAD_USER_INPUT, never a crash."""
        if len(representations) > self.max_representations:
            raise BadUserInput(f"At most {self.max_representations} representations per _entities call.")
        checked: list[Any] = [self._checked(representation) for representation in representations]
        valid = [r for r in checked if not isinstance(r, BadUserInput)]
        resolved = iter(super().entities_resolver(info, valid))
        answers: list[Any] = [r if isinstance(r, BadUserInput) else next(resolved) for r in checked]
        return answers

    def _checked(self, representation: object) -> object:
        if not isinstance(representation, dict):
            return BadUserInput("A representation must be an object.", field="representations")
        type_name = representation.get("__typename")
        key = self._entity_keys.get(type_name) if isinstance(type_name, str) else None
        if key is None:
            return BadUserInput("A representation must name an entity of this subgraph in __typename.")
        if set(representation) != key | {"__typename"}:
            return BadUserInput(f"A {type_name} representation carries exactly {', '.join(sorted(key))}.")
        if not all(isinstance(representation[field], str) for field in key):
            return BadUserInput(f"A {type_name} representation's key must be text.")
        return dict(representation)
