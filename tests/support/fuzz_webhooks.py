"""Bodies for Stripe's webhook that Stripe would never send, to be signed with the endpoint's
secret so that they get past the signature to the parsing behind it."""

import json

from hypothesis import strategies as st

from subgraphs.payments.webhooks import INTENT_EVENTS
from tests.support.fuzz_entities import JSON

IDS = st.text(max_size=300) | JSON
EVENTS = st.fixed_dictionaries(
    {},
    optional={
        "id": IDS,
        "type": st.sampled_from(sorted(INTENT_EVENTS)) | st.text(),
        "data": st.fixed_dictionaries({}, optional={"object": st.fixed_dictionaries({}, optional={"id": IDS}) | JSON})
        | JSON,
    },
)


def bodies() -> st.SearchStrategy[bytes]:
    """An event with parts missing or of the wrong type, any other JSON, one with a lone
    surrogate (valid JSON, yet no database stores it), JSON nested deeper than parsers recurse,
    and bytes that are not UTF-8."""
    return st.one_of(
        st.one_of(EVENTS, JSON).map(_encode),
        EVENTS.map(lambda event: _encode({**event, "id": "\ud800"})),
        st.integers(min_value=1, max_value=100_000).map(lambda depth: b"[" * depth + b"]" * depth),
        st.binary(),
    )


def _encode(value: object) -> bytes:
    # ASCII-only JSON: a lone surrogate goes out as the escape "\ud800", as it would on the wire.
    return json.dumps(value).encode()
