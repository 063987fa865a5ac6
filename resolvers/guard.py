"""``OperationGuard``: what a subgraph does with every operation before it executes it.

    parse      stopping at the token limit (TOO_MANY_TOKENS)
    validate   the document's own limits first (resolvers.limits: fields, aliases,
               directives, depth), then the specification's rules, which cost time
               quadratic in the fields and so run only on a document within them; then
               the cost estimate with the request's variables, and the router's signature
               on the federation internals (``_entities``, ``_service``)

Parsing and validating cost milliseconds and the router sends the same texts over and over,
so both are cached by the query text; long texts are not cached, since a cache of a thousand
one-megabyte documents is a gigabyte and the router's texts are short.
"""

from collections.abc import Iterator
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Final, cast

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    SelectionSetNode,
    get_operation_ast,
    parse,
)
from strawberry.extensions import SchemaExtension

from resolvers import limits, router_signature

if TYPE_CHECKING:
    from resolvers.schema import SubgraphSchema

FEDERATION_INTERNALS: Final = frozenset({"_entities", "_service"})
QUERY_CACHE_SIZE: Final = 1024
CACHED_TEXT_CHARS: Final = 16_384


def parse_limited(query: str, tokens: int) -> DocumentNode:
    """``query`` parsed, stopping at ``tokens`` lexical tokens (and as many comments)."""
    return parse(query, max_lexical_tokens=tokens, max_comments=tokens)


_parse_cached = lru_cache(maxsize=QUERY_CACHE_SIZE)(parse_limited)


def parsed(query: str, tokens: int) -> DocumentNode:
    return _parse_cached(query, tokens) if len(query) <= CACHED_TEXT_CHARS else parse_limited(query, tokens)


class OperationGuard(SchemaExtension):
    """Made per request by the schema, which holds the limits, the rules and the cost
    estimator."""

    def __init__(self, schema: "SubgraphSchema") -> None:
        super().__init__()
        self._schema = schema

    def on_operation(self) -> Iterator[None]:
        tokens = self._schema.limits.tokens
        # Should Strawberry parse itself (it does when ours failed, to report the error),
        # it stops at the same limit. (Its type for the options predates graphql-core's.)
        options = cast(dict[str, Any], self.execution_context.parse_options)
        options.update(max_lexical_tokens=tokens, max_comments=tokens)
        yield

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        tokens = self._schema.limits.tokens
        refusal = None
        if context.query:
            try:
                context.graphql_document = parsed(context.query, tokens)
            except GraphQLError:
                # Strawberry parses again and reports the error; the token limit's gets its code.
                if limits.tokens_exceeded(context.query, tokens):
                    refusal = limits.exceeded(limits.TOO_MANY_TOKENS, "tokens", tokens)
        yield
        if refusal is not None:
            for error in context.pre_execution_errors or []:
                error.message, error.extensions = refusal.message, refusal.extensions

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if context.query and document is not None:
            # Set, Strawberry's own validation is skipped. A valid operation's cost and
            # signature are checked here too, before anything runs: a refusal at this step
            # ends a subscription as well (one set as the result later would not).
            errors = self._schema.validation_errors(context.query, document)
            refusal = None if errors else self._refusal(document)
            context.pre_execution_errors = [refusal] if refusal is not None else errors
        yield

    def _refusal(self, document: DocumentNode) -> GraphQLError | None:
        context = self.execution_context
        schema = self._schema
        variables = context.variables or {}
        cost = schema.cost.estimate(document, context.operation_name, variables)
        if cost > schema.limits.cost:
            return limits.exceeded(limits.COST_ESTIMATED_TOO_EXPENSIVE, "units of cost", schema.limits.cost, cost)
        if FEDERATION_INTERNALS & root_fields(document, context.operation_name):
            extensions = context.operation_extensions or {}
            signed = router_signature.is_signed(schema.router_secret, context.query or "", variables, extensions)
            # Outside production an unsigned request may ask too (tests reach subgraphs without
            # a router); a signature that is present must be right in every mode, so that a
            # router and a subgraph that disagree about it show up in development already.
            if not signed and (schema.router_only or router_signature.EXTENSION in extensions):
                return GraphQLError(
                    "Only the router may ask for _entities and _service.", extensions={"code": "FORBIDDEN"}
                )
        return None


def root_fields(document: DocumentNode, operation_name: str | None) -> set[str]:
    """The names of the fields the operation selects at its root, through fragments."""
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        return set()
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    found: set[str] = set()
    seen: set[str] = set()

    def collect(selection_set: SelectionSetNode) -> None:
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                found.add(selection.name.value)
            elif isinstance(selection, InlineFragmentNode):
                collect(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode) and selection.name.value not in seen:
                seen.add(selection.name.value)
                fragment = fragments.get(selection.name.value)
                if fragment is not None:
                    collect(fragment.selection_set)

    collect(operation.selection_set)
    return found
