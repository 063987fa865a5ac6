"""Per-request loaders: orders by id, lines by order, and users' order histories (one
statement for many users' first pages, whatever the number of users)."""

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import func, select
from strawberry.dataloader import DataLoader

from resolvers.context import Context
from resolvers.loaders import loader, many_by, many_per_key, one_by
from resolvers.pagination import Keyset
from subgraphs.orders.tables import OrderLineRow, OrderRow

NEWEST_FIRST = Keyset(name="orders:created:desc", columns=(OrderRow.created_at, OrderRow.id), descending=True)


@dataclass(frozen=True, slots=True)
class HistoryPage:
    """One user's page of orders: which user, how many, after which cursor."""

    user_id: str
    first: int
    after: str | None


@dataclass(frozen=True, slots=True)
class OrdersLoaders:
    order: DataLoader[str, OrderRow | None]
    lines: DataLoader[str, list[OrderLineRow]]
    history: DataLoader[HistoryPage, list[OrderRow]]
    history_count: DataLoader[str, int]


def make_loaders(context: "Context[OrdersLoaders]", _runtime: object) -> OrdersLoaders:
    async def histories(pages: list[HistoryPage]) -> list[list[OrderRow]]:
        # Pages asking for the same size after the same cursor share one windowed statement:
        # in practice one statement serves every user of the request.
        groups: defaultdict[tuple[int, str | None], list[str]] = defaultdict(list)
        for page in pages:
            groups[(page.first, page.after)].append(page.user_id)
        found: dict[HistoryPage, list[OrderRow]] = {}
        async with context.db() as session:
            for (first, after), user_ids in groups.items():
                # Number each user's orders after the cursor, newest first; keep first + 1 of
                # each, the extra one telling whether another page follows.
                rank = func.row_number().over(partition_by=OrderRow.user_id, order_by=NEWEST_FIRST.order())
                candidates = select(OrderRow.id, rank.label("rank")).where(
                    OrderRow.tenant_id == context.tenant, OrderRow.user_id.in_(user_ids)
                )
                if after is not None:
                    candidates = candidates.where(NEWEST_FIRST.after(after))
                ranked = candidates.subquery()
                rows = await session.scalars(
                    select(OrderRow)
                    .join(ranked, ranked.c.id == OrderRow.id)
                    .where(ranked.c.rank <= first + 1)
                    .order_by(*NEWEST_FIRST.order())
                )
                for user_id, user_rows in zip(
                    user_ids, many_per_key(user_ids, rows, lambda row: row.user_id), strict=True
                ):
                    found[HistoryPage(user_id, first, after)] = user_rows
        return [found[page] for page in pages]

    async def history_counts(user_ids: list[str]) -> list[int]:
        async with context.db() as session:
            result = await session.execute(
                select(OrderRow.user_id, func.count())
                .where(OrderRow.tenant_id == context.tenant, OrderRow.user_id.in_(user_ids))
                .group_by(OrderRow.user_id)
            )
            counts = {user_id: count for user_id, count in result.tuples()}
        return [counts.get(user_id, 0) for user_id in user_ids]

    return OrdersLoaders(
        order=one_by(context, OrderRow.id),
        lines=many_by(context, OrderLineRow.order_id, order_by=(OrderLineRow.position,)),
        history=loader(histories),
        history_count=loader(history_counts),
    )
