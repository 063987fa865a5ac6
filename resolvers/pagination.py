"""Relay-style cursor connections with keyset pagination.

Cursors are opaque to clients (base64url of JSON) but carry the sort they were made for,
so a cursor from one ordering is refused under another instead of silently skipping rows.
"""

import base64
import binascii
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

import orjson
import strawberry
from sqlalchemy import ColumnElement, Select, UnaryExpression, literal, tuple_
from sqlalchemy.orm import InstrumentedAttribute

from resolvers.errors import BadUserInput

T = TypeVar("T")
Row = TypeVar("Row")

MAX_PAGE_SIZE = 100
# Sort keys are names, SKUs and ids; nothing we sort by is longer.
MAX_CURSOR_TEXT = 255


@strawberry.federation.type(shareable=True)
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class Edge(Generic[T]):
    cursor: str
    node: T


@strawberry.type
class Connection(Generic[T]):
    edges: list[Edge[T]]
    page_info: PageInfo
    count_total: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field(description="How many items match, across all pages.")
    async def total_count(self) -> int:
        return await self.count_total()


@dataclass(frozen=True, slots=True)
class Keyset:
    """One ordering: the columns rows are sorted by (the last one unique) and a direction."""

    name: str
    columns: Sequence[InstrumentedAttribute[Any]]
    descending: bool = False

    def apply(self, query: Select[Any], first: int, after: str | None) -> Select[Any]:
        """Orders ``query``, starts it after the cursor and fetches one extra row to learn
        whether another page follows."""
        if after is not None:
            query = query.where(self.after(after))
        return query.order_by(*self.order()).limit(first + 1)

    def after(self, cursor: str) -> ColumnElement[bool]:
        """The rows that come after ``cursor`` in this ordering."""
        values = self.decode(cursor)
        position = tuple_(*self.columns)
        bound = tuple_(*(literal(v, c.type) for c, v in zip(self.columns, values, strict=True)))
        return position < bound if self.descending else position > bound

    def order(self) -> list[UnaryExpression[Any]]:
        return [column.desc() if self.descending else column.asc() for column in self.columns]

    def encode(self, values: Sequence[Any]) -> str:
        plain = [value.isoformat() if isinstance(value, datetime) else value for value in values]
        return base64.urlsafe_b64encode(orjson.dumps([self.name, *plain])).decode()

    def decode(self, cursor: str) -> list[Any]:
        """The sort values a cursor carries, each checked against its column's type: a
        cursor is client input, and a forged one must fail as bad input, not in the driver."""
        try:
            name, *values = orjson.loads(base64.urlsafe_b64decode(cursor.encode()))
            if name != self.name or len(values) != len(self.columns):
                raise ValueError("cursor made for another ordering")
            return [
                _cursor_value(column.type.python_type, value)
                for column, value in zip(self.columns, values, strict=True)
            ]
        except (ValueError, TypeError, OverflowError, binascii.Error, orjson.JSONDecodeError) as exc:
            raise BadUserInput(
                "The 'after' cursor is not one this list gave out with the same sort.", field="after"
            ) from exc


def _cursor_value(kind: type, value: object) -> object:
    if kind is datetime and isinstance(value, str):
        moment = datetime.fromisoformat(value)
        if moment.tzinfo is None:
            raise ValueError("cursor time without a timezone")
        return moment.astimezone(UTC)  # OverflowError at the ends of the calendar
    if kind is int and isinstance(value, int) and not isinstance(value, bool) and abs(value) < 2**63:
        return value
    if kind is str and isinstance(value, str) and len(value) <= MAX_CURSOR_TEXT:
        return value
    raise ValueError(f"cursor value {value!r} does not fit a {kind.__name__} column")


def check_page_size(first: int) -> int:
    if not 1 <= first <= MAX_PAGE_SIZE:
        raise BadUserInput(f"'first' must be between 1 and {MAX_PAGE_SIZE}.", field="first")
    return first


def connection(
    rows: Sequence[Row],
    *,
    first: int,
    keyset: Keyset,
    sort_values: Callable[[Row], Sequence[Any]],
    node: Callable[[Row], T],
    count_total: Callable[[], Awaitable[int]],
) -> Connection[T]:
    """Builds a page from rows fetched with ``Keyset.apply`` (up to ``first + 1`` of them)."""
    page = rows[:first]
    edges = [Edge(cursor=keyset.encode(sort_values(row)), node=node(row)) for row in page]
    return Connection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=len(rows) > first,
            end_cursor=edges[-1].cursor if edges else None,
        ),
        count_total=count_total,
    )
