"""Representations for federation's ``_Any`` scalar, the argument of ``_entities``: as a router
sends them, and malformed in the ways a router never would. Schemathesis generates no custom
scalar by itself; this gives it ``_Any`` as GraphQL literals."""

from collections.abc import Sequence

import graphql
from hypothesis import strategies as st

NAMES = st.from_regex(r"[_A-Za-z][_0-9A-Za-z]{0,11}", fullmatch=True)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(NAMES, inner, max_size=3),
    max_leaves=8,
)


def representations(typenames: Sequence[str], ids: Sequence[str]) -> st.SearchStrategy[graphql.ValueNode]:
    """One representation: as a router sends it (one of ``typenames``, keyed by one of ``ids`` or
    a UUID); with an odd key or an unknown type; with keys left out or added; not an object."""
    typename = st.sampled_from(typenames)
    key = st.sampled_from(ids) | st.uuids().map(str)
    return st.one_of(
        st.fixed_dictionaries({"__typename": typename, "id": key}),
        st.fixed_dictionaries({"__typename": typename | NAMES, "id": JSON}),
        st.tuples(
            st.fixed_dictionaries({}, optional={"__typename": typename, "id": key}),
            st.dictionaries(NAMES, JSON, max_size=2),
        ).map(lambda parts: {**parts[1], **parts[0]}),
        JSON,
    ).map(literal)


def literal(value: object) -> graphql.ValueNode:
    """A JSON value as the GraphQL literal that reads as it."""
    if value is None:
        return graphql.NullValueNode()
    if isinstance(value, bool):
        return graphql.BooleanValueNode(value=value)
    if isinstance(value, int):
        return graphql.IntValueNode(value=str(value))
    if isinstance(value, float):
        return graphql.FloatValueNode(value=repr(value))
    if isinstance(value, str):
        return graphql.StringValueNode(value=value)
    if isinstance(value, list):
        return graphql.ListValueNode(values=tuple(literal(item) for item in value))
    assert isinstance(value, dict), value
    return graphql.ObjectValueNode(
        fields=tuple(
            graphql.ObjectFieldNode(name=graphql.NameNode(value=name), value=literal(item))
            for name, item in value.items()
        )
    )
