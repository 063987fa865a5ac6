"""Keyset pagination, checked on many generated orderings against a real SQLite database."""

import base64
import json
import uuid
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, Integer, String, create_engine, delete, insert, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from resolvers.errors import BadUserInput
from resolvers.pagination import Keyset


class Base(DeclarativeBase):
    pass


class Item(Base):
    __tablename__ = "items"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    price: Mapped[int] = mapped_column(Integer)


@pytest.fixture(scope="module")
def engine() -> Iterator[Engine]:
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    yield engine
    engine.dispose()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    prices=st.lists(st.integers(min_value=0, max_value=5), max_size=30),
    page_size=st.integers(min_value=1, max_value=7),
    descending=st.booleans(),
)
def test_pages_cover_every_row_once_in_order(
    engine: Engine, prices: list[int], page_size: int, descending: bool
) -> None:
    # Given rows whose prices repeat a lot, so the id decides most of the order
    rows = [{"id": str(uuid.uuid4()), "price": price} for price in prices]
    keyset = Keyset(name="items:price", columns=(Item.price, Item.id), descending=descending)
    with engine.begin() as connection:
        connection.execute(delete(Item))
        if rows:
            connection.execute(insert(Item), rows)

        # When a client follows the cursors page by page
        seen: list[tuple[int, str]] = []
        after = None
        while True:
            page = connection.execute(keyset.apply(select(Item.price, Item.id), page_size, after)).all()
            seen += [(price, id_) for price, id_ in page[:page_size]]
            if len(page) <= page_size:
                break
            after = keyset.encode(page[page_size - 1])

    # Then it sees every row exactly once, in the keyset's order
    assert seen == sorted(((r["price"], r["id"]) for r in rows), reverse=descending)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=300),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3),
    max_leaves=5,
)


@given(values=st.lists(JSON_VALUES, max_size=3), junk=st.text(max_size=40))
def test_a_forged_cursor_is_decoded_to_its_column_types_or_refused(values: list[object], junk: str) -> None:
    keyset = Keyset(name="items:price", columns=(Item.price, Item.id))
    for cursor in (base64.urlsafe_b64encode(json.dumps(["items:price", *values]).encode()).decode(), junk):
        try:
            price, id_ = keyset.decode(cursor)
        except BadUserInput:
            continue
        assert type(price) is int and abs(price) < 2**63
        assert type(id_) is str and len(id_) <= 255
