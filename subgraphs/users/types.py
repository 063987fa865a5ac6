"""The users subgraph's GraphQL types. A profile is its owner's: other callers need
``users:admin`` to see more than the id."""

from datetime import datetime
from typing import Self

import strawberry

from resolvers import scopes
from resolvers.context import Context
from resolvers.list_sizes import assumed
from resolvers.permissions import owner_or
from subgraphs.users.loaders import UsersLoaders
from subgraphs.users.services import MAX_ADDRESSES
from subgraphs.users.tables import AddressRow, UserRow

Info = strawberry.Info[Context[UsersLoaders], None]

ADMIN_SCOPE = scopes.USERS_ADMIN
READER_SCOPE = scopes.USERS_READ


@strawberry.type
class Address:
    id: strawberry.ID
    label: str | None
    recipient: str
    line1: str
    line2: str | None
    city: str
    region: str | None
    postal_code: str
    country: str = strawberry.field(description="ISO 3166-1 alpha-2.")

    @classmethod
    def from_row(cls, row: AddressRow) -> Self:
        return cls(
            id=strawberry.ID(row.id),
            label=row.label,
            recipient=row.recipient,
            line1=row.line1,
            line2=row.line2,
            city=row.city,
            region=row.region,
            postal_code=row.postal_code,
            country=row.country,
        )


@strawberry.federation.type(keys=["id"], description="A shopper's profile; its id is the token's subject.")
class User:
    id: strawberry.ID
    email: str | None = owner_or(ADMIN_SCOPE, reader=READER_SCOPE)
    name: str | None = owner_or(ADMIN_SCOPE, reader=READER_SCOPE)
    created_at: datetime | None = owner_or(ADMIN_SCOPE, reader=READER_SCOPE)

    @owner_or(ADMIN_SCOPE, reader=READER_SCOPE, directives=[assumed(MAX_ADDRESSES)])
    async def addresses(self, info: Info) -> list[Address] | None:
        rows = await info.context.loaders.addresses.load(self.id)
        return [Address.from_row(row) for row in rows]

    @classmethod
    def from_row(cls, row: UserRow) -> Self:
        return cls(id=strawberry.ID(row.id), email=row.email, name=row.name, created_at=row.created_at)

    @classmethod
    async def resolve_reference(cls, info: Info, id: strawberry.ID) -> Self | None:
        row = await info.context.loaders.user.load(id)
        return cls.from_row(row) if row else None


@strawberry.input
class UpdateProfileInput:
    name: str | None = None
    email: str | None = None


@strawberry.input
class AddressInput:
    recipient: str
    line1: str
    city: str
    postal_code: str
    country: str
    line2: str | None = None
    region: str | None = None
    label: str | None = None
