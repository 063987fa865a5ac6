"""DataLoader helpers: batch functions must answer in the order of the keys they were given."""

from collections import defaultdict
from collections.abc import Awaitable, Callable, Hashable, Iterable, Sequence
from operator import attrgetter
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, cast

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import InstrumentedAttribute, Mapped
from strawberry.dataloader import DataLoader

if TYPE_CHECKING:
    from resolvers.context import Context

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

# Caps one batch's IN-list: PostgreSQL takes far more, but SQLite's default limit on bound
# parameters is 32766 and a huge IN-list plans badly on both.
MAX_BATCH_SIZE = 500


def one_per_key(keys: Sequence[K], rows: Iterable[V], key: Callable[[V], K]) -> list[V | None]:
    """For each key, its row or None."""
    found = {key(row): row for row in rows}
    return [found.get(k) for k in keys]


def many_per_key(keys: Sequence[K], rows: Iterable[V], key: Callable[[V], K]) -> list[list[V]]:
    """For each key, its rows in the order the query returned them."""
    groups: defaultdict[K, list[V]] = defaultdict(list)
    for row in rows:
        groups[key(row)].append(row)
    return [groups.get(k, []) for k in keys]


def loader(batch: Callable[[list[K]], Awaitable[Sequence[V]]]) -> DataLoader[K, V]:
    """A request-scoped loader over ``batch``."""
    return DataLoader(load_fn=batch, max_batch_size=MAX_BATCH_SIZE)


class TenantRow(Protocol):
    tenant_id: Mapped[str]


def one_by(
    context: "Context[Any]",
    column: InstrumentedAttribute[Any],
    *,
    where: Sequence[ColumnElement[bool]] = (),
    order_by: Sequence[ColumnElement[Any] | InstrumentedAttribute[Any]] = (),
) -> DataLoader[Any, Any]:
    """Loads the row of ``column``'s table whose ``column`` equals each key, in the caller's
    tenant, in one statement per batch. With ``order_by``, the last row per key wins."""
    return loader(_batch(context, column, where, order_by, one_per_key))


def many_by(
    context: "Context[Any]",
    column: InstrumentedAttribute[Any],
    *,
    where: Sequence[ColumnElement[bool]] = (),
    order_by: Sequence[ColumnElement[Any] | InstrumentedAttribute[Any]] = (),
) -> DataLoader[Any, Any]:
    """Loads, for each key, every row of ``column``'s table with that value, in ``order_by``."""
    return loader(_batch(context, column, where, order_by, many_per_key))


def _batch(
    context: "Context[Any]",
    column: InstrumentedAttribute[Any],
    where: Sequence[ColumnElement[bool]],
    order_by: Sequence[ColumnElement[Any] | InstrumentedAttribute[Any]],
    arrange: Callable[[Sequence[Any], Iterable[Any], Callable[[Any], Any]], list[Any]],
) -> Callable[[list[Any]], Awaitable[list[Any]]]:
    model = cast("type[TenantRow]", column.class_)
    key = attrgetter(column.key)

    async def batch(keys: list[Any]) -> list[Any]:
        # Each batch opens its own session: batches of different loaders run concurrently
        # and an AsyncSession must never be shared between concurrent tasks.
        async with context.db() as session:
            rows = await session.scalars(
                select(model).where(model.tenant_id == context.tenant, column.in_(keys), *where).order_by(*order_by)
            )
            return arrange(keys, rows.all(), key)

    return batch
