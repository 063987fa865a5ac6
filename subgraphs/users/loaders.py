"""Per-request loaders for users and their addresses."""

from dataclasses import dataclass

from strawberry.dataloader import DataLoader

from resolvers.context import Context
from resolvers.loaders import many_by, one_by
from subgraphs.users.tables import AddressRow, UserRow


@dataclass(frozen=True, slots=True)
class UsersLoaders:
    user: DataLoader[str, UserRow | None]
    addresses: DataLoader[str, list[AddressRow]]


def make_loaders(context: "Context[UsersLoaders]", _runtime: object) -> UsersLoaders:
    return UsersLoaders(
        user=one_by(context, UserRow.id),
        addresses=many_by(context, AddressRow.user_id, order_by=(AddressRow.created_at, AddressRow.id)),
    )
