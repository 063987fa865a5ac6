"""DataLoader helpers: batch functions must answer in the order of the keys they were given."""

from collections import defaultdict
from collections.abc import Awaitable, Callable, Hashable, Iterable, Sequence
from typing import TypeVar

from strawberry.dataloader import DataLoader

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
