"""Bounded work per operation, decided before any resolver runs.

    limit        code                           what is counted
    depth        QUERY_TOO_DEEP                 fields on the longest path from the root
    fields       TOO_MANY_FIELDS                fields anywhere in the document
    aliases      TOO_MANY_ALIASES               aliased fields anywhere in the document
    directives   TOO_MANY_DIRECTIVES            directive applications anywhere in the document
    tokens       TOO_MANY_TOKENS                lexical tokens (the parser stops at the limit)
    cost         COST_ESTIMATED_TOO_EXPENSIVE   objects the operation may resolve (below)

The router counts the same way, with tighter limits, before it calls any subgraph
(router/); these bound whoever reaches a subgraph directly, and they are loose enough that
the router's own requests always pass. Depth and cost expand fragments where they are
spread, measuring each fragment once: a fragment that spreads another twice, many levels
deep, then costs linear time to measure instead of exponential. The document's own limits
are checked before the specification's validation rules run: those compare every pair of
same-named fields (time quadratic in the fields), so the field limit is what bounds them.

Cost is the demand-control convention Apollo and Hive use (IBM's cost directives): an object
costs 1 and a scalar 0, times the length of every list above it, plus 10 for a mutation. A
list is as long as its ``@listSize`` says (``first``, for a connection's ``edges``; an
assumed size for a list without paging), 100 when it says nothing, and ``_entities`` is as
long as its representations. Depth, fields, aliases and directives depend on the document
only and are checked once per document (resolvers.guard caches the outcome with
validation's); cost depends on the variables too and is estimated for every request.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from graphql import (
    DirectiveNode,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    VariableNode,
    Visitor,
    get_named_type,
    get_nullable_type,
    get_operation_ast,
    is_composite_type,
    is_list_type,
    value_from_ast_untyped,
    visit,
)
from graphql.language import Lexer, Source, TokenKind

QUERY_TOO_DEEP: Final = "QUERY_TOO_DEEP"
TOO_MANY_FIELDS: Final = "TOO_MANY_FIELDS"
TOO_MANY_ALIASES: Final = "TOO_MANY_ALIASES"
TOO_MANY_DIRECTIVES: Final = "TOO_MANY_DIRECTIVES"
TOO_MANY_TOKENS: Final = "TOO_MANY_TOKENS"
COST_ESTIMATED_TOO_EXPENSIVE: Final = "COST_ESTIMATED_TOO_EXPENSIVE"
CODES: Final = frozenset(
    {
        QUERY_TOO_DEEP,
        TOO_MANY_FIELDS,
        TOO_MANY_ALIASES,
        TOO_MANY_DIRECTIVES,
        TOO_MANY_TOKENS,
        COST_ESTIMATED_TOO_EXPENSIVE,
    }
)

MUTATION_COST: Final = 10
DEFAULT_LIST_SIZE: Final = 100
ENTITIES: Final = "_entities"
# Introspection is measured by the other limits (and off in production): it costs nothing
# and adds no depth, as the router counts it too.
INTROSPECTION_ROOTS: Final = frozenset({"__schema", "__type"})


@dataclass(frozen=True, slots=True)
class Limits:
    depth: int
    fields: int
    aliases: int
    directives: int
    tokens: int
    cost: int


@dataclass(frozen=True, slots=True)
class ListSize:
    """A field's ``@listSize``: its length is the largest of its slicing arguments (applied to
    ``sized_fields`` below it when there are some), else ``assumed``."""

    assumed: int | None = None
    slicing: tuple[str, ...] = ()
    sized_fields: tuple[str, ...] = ()


def exceeded(code: str, what: str, limit: int, found: int | None = None) -> GraphQLError:
    """The refusal every limit gives: the limit's code, the limit, and what was found."""
    extensions: dict[str, Any] = {"code": code, "limit": limit}
    counted = ""
    if found is not None:
        extensions["found"] = found
        counted = f" (found {found})"
    return GraphQLError(f"The operation exceeds the limit of {limit} {what}{counted}.", extensions=extensions)


def tokens_exceeded(query: str, limit: int) -> bool:
    """Whether ``query`` has more than ``limit`` lexical tokens: asked only after the parser
    refused a document, to tell the token limit from a syntax error."""
    lexer = Lexer(Source(query))
    counted = 0
    try:
        while (token := lexer.advance()).kind is not TokenKind.EOF:
            counted += token.kind is not TokenKind.COMMENT
            if counted > limit:
                return True
    except GraphQLError:
        return False
    return False


def document_errors(document: DocumentNode, limits: Limits) -> list[GraphQLError]:
    """The limits the document alone decides: fields, aliases, directives, depth."""
    counter = _Counter()
    visit(document, counter)
    errors = []
    if counter.fields > limits.fields:
        errors.append(exceeded(TOO_MANY_FIELDS, "fields", limits.fields, counter.fields))
    if counter.aliases > limits.aliases:
        errors.append(exceeded(TOO_MANY_ALIASES, "aliases", limits.aliases, counter.aliases))
    if counter.directives > limits.directives:
        errors.append(exceeded(TOO_MANY_DIRECTIVES, "directives", limits.directives, counter.directives))
    depth = _Depth(_fragments(document))
    deepest = max(
        (depth.of(d.selection_set) for d in document.definitions if isinstance(d, OperationDefinitionNode)),
        default=0,
    )
    if deepest > limits.depth:
        errors.append(exceeded(QUERY_TOO_DEEP, "levels of nesting", limits.depth, deepest))
    return errors


class _Counter(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.fields = 0
        self.aliases = 0
        self.directives = 0

    def enter_field(self, node: FieldNode, *_args: object) -> None:
        self.fields += 1
        self.aliases += node.alias is not None

    def enter_directive(self, _node: DirectiveNode, *_args: object) -> None:
        self.directives += 1


def _fragments(document: DocumentNode) -> dict[str, FragmentDefinitionNode]:
    return {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}


class _Depth:
    def __init__(self, fragments: Mapping[str, FragmentDefinitionNode]) -> None:
        self._fragments = fragments
        self._measured: dict[str, int] = {}
        self._open: set[str] = set()

    def of(self, selection_set: SelectionSetNode) -> int:
        deepest = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                if selection.name.value not in INTROSPECTION_ROOTS:
                    below = self.of(selection.selection_set) if selection.selection_set else 0
                    deepest = max(deepest, 1 + below)
            elif isinstance(selection, InlineFragmentNode):
                deepest = max(deepest, self.of(selection.selection_set))
            elif isinstance(selection, FragmentSpreadNode):
                deepest = max(deepest, self._fragment(selection.name.value))
        return deepest

    def _fragment(self, name: str) -> int:
        if name not in self._measured:
            fragment = self._fragments.get(name)
            if fragment is None or name in self._open:
                return 0  # unknown or cyclic: validation refuses the document anyway
            self._open.add(name)
            self._measured[name] = self.of(fragment.selection_set)
            self._open.discard(name)
        return self._measured[name]


class CostEstimator:
    """Estimates what an operation may resolve, from the schema's ``@listSize`` declarations
    (``list_sizes`` maps a type's and field's GraphQL names to them)."""

    def __init__(self, schema: GraphQLSchema, list_sizes: Mapping[tuple[str, str], ListSize]) -> None:
        self._schema = schema
        self._list_sizes = list_sizes

    def estimate(self, document: DocumentNode, operation_name: str | None, variables: Mapping[str, Any]) -> int:
        operation = get_operation_ast(document, operation_name)
        root = self._schema.get_root_type(operation.operation) if operation else None
        if operation is None or root is None:
            return 0  # execution refuses it with its own error
        defaults = {
            d.variable.name.value: value_from_ast_untyped(d.default_value)
            for d in operation.variable_definitions or ()
            if d.default_value is not None
        }
        walk = _CostWalk(self._schema, self._list_sizes, _fragments(document), {**defaults, **variables})
        base = MUTATION_COST if operation.operation is OperationType.MUTATION else 0
        return base + walk.unit(root, operation.selection_set, {})


Sized = Mapping[str, int]


class _CostWalk:
    """One estimate. ``unit`` is the cost of a selection set when everything above it is
    resolved once; a caller multiplies by how often that is."""

    def __init__(
        self,
        schema: GraphQLSchema,
        list_sizes: Mapping[tuple[str, str], ListSize],
        fragments: Mapping[str, FragmentDefinitionNode],
        variables: Mapping[str, Any],
    ) -> None:
        self._schema = schema
        self._list_sizes = list_sizes
        self._fragments = fragments
        self._variables = variables
        self._measured: dict[tuple[str, tuple[tuple[str, int], ...]], int] = {}
        self._open: set[str] = set()

    def unit(self, parent: GraphQLNamedType, selection_set: SelectionSetNode, sized: Sized) -> int:
        total = 0
        # Execution spreads a fragment once per selection set, however often it is named there.
        spread: set[str] = set()
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total += self._field(parent, selection, sized)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                on = self._schema.get_type(condition.name.value) if condition else parent
                if on is not None:
                    total += self.unit(on, selection.selection_set, sized)
            elif isinstance(selection, FragmentSpreadNode) and selection.name.value not in spread:
                spread.add(selection.name.value)
                total += self._fragment(selection.name.value, sized)
        return total

    def _fragment(self, name: str, sized: Sized) -> int:
        key = (name, tuple(sorted(sized.items())))
        if key not in self._measured:
            fragment = self._fragments.get(name)
            on = self._schema.get_type(fragment.type_condition.name.value) if fragment else None
            if fragment is None or on is None or name in self._open:
                return 0  # unknown or cyclic: validation refuses the document anyway
            self._open.add(name)
            self._measured[key] = self.unit(on, fragment.selection_set, sized)
            self._open.discard(name)
        return self._measured[key]

    def _field(self, parent: GraphQLNamedType, node: FieldNode, sized: Sized) -> int:
        name = node.name.value
        if name.startswith("__") or not isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
            return 0
        definition = parent.fields.get(name)
        if definition is None:
            return 0  # validation refuses unknown fields
        length, sized_below = self._length(parent.name, name, definition, node, sized)
        named = get_named_type(definition.type)
        if not is_composite_type(named):
            return 0
        below = self.unit(named, node.selection_set, sized_below) if node.selection_set else 0
        return length * (1 + below)

    def _length(
        self, parent: str, name: str, definition: GraphQLField, node: FieldNode, sized: Sized
    ) -> tuple[int, Sized]:
        """How many times this field resolves per parent, and the lengths it hands to the
        fields below it."""
        if name == ENTITIES:
            representations = self._argument(definition, node, "representations")
            return (len(representations) if isinstance(representations, list) else 1), {}
        declared = self._list_sizes.get((parent, name))
        if declared is None:
            if name in sized:
                return sized[name], {}
            return (DEFAULT_LIST_SIZE if is_list_type(get_nullable_type(definition.type)) else 1), {}
        if declared.slicing:
            given = [self._argument(definition, node, argument) for argument in declared.slicing]
            length = max((value for value in given if isinstance(value, int) and _is_count(value)), default=1)
            if declared.sized_fields:
                return 1, dict.fromkeys(declared.sized_fields, length)
            return length, {}
        return declared.assumed or 1, {}

    def _argument(self, definition: GraphQLField, node: FieldNode, name: str) -> object:
        """An argument's value as sent (a literal, a variable, or the defaults), uncoerced:
        execution refuses what does not coerce, and only lengths matter here."""
        given = next((argument.value for argument in node.arguments or () if argument.name.value == name), None)
        if isinstance(given, VariableNode):
            if given.name.value in self._variables:
                return self._variables[given.name.value]
            given = None
        if given is not None:
            return value_from_ast_untyped(given)
        declared = definition.args.get(name)
        return declared.default_value if declared is not None else None


def _is_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0
