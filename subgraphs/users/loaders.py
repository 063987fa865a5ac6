"""Per-request loaders for users and their addresses."""

from dataclasses import dataclass

from sqlalchemy import select
from strawberry.dataloader import DataLoader

from resolvers.context import Context
from resolvers.loaders import loader, many_per_key, one_per_key
from subgraphs.users.tables import AddressRow, UserRow


@dataclass(frozen=True, slots=True)
class UsersLoaders:
    user: DataLoader[str, UserRow | None]
    addresses: DataLoader[str, list[AddressRow]]


def make_loaders(context: "Context[UsersLoaders]", _runtime: object) -> UsersLoaders:
    async def users(ids: list[str]) -> list[UserRow | None]:
        async with context.db() as session:
            rows = await session.scalars(
                select(UserRow).where(UserRow.tenant_id == context.tenant, UserRow.id.in_(ids))
            )
            return one_per_key(ids, rows, lambda row: row.id)

    async def addresses(user_ids: list[str]) -> list[list[AddressRow]]:
        async with context.db() as session:
            rows = await session.scalars(
                select(AddressRow)
                .where(AddressRow.tenant_id == context.tenant, AddressRow.user_id.in_(user_ids))
                .order_by(AddressRow.created_at, AddressRow.id)
            )
            return many_per_key(user_ids, rows, lambda row: row.user_id)

    return UsersLoaders(user=loader(users), addresses=loader(addresses))
