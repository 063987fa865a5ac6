"""The users subgraph's mutation root: a caller changes only their own profile."""

import strawberry

from resolvers import scopes
from resolvers.permissions import requires_scopes
from subgraphs.users import services
from subgraphs.users.types import Address, AddressInput, Info, UpdateProfileInput, User


@strawberry.type
class Mutation:
    @requires_scopes(scopes.USERS_READ)
    async def update_profile(self, info: Info, input: UpdateProfileInput) -> User:
        context = info.context
        async with context.transaction() as session:
            user = await services.ensure_user(
                context.tenant, context.caller, context.require_subject(), session=session
            )
            await services.update_profile(user, name=input.name, email=input.email, session=session)
        return User.from_row(user)

    @requires_scopes(scopes.USERS_READ)
    async def add_address(self, info: Info, input: AddressInput) -> Address:
        context = info.context
        draft = services.AddressDraft(
            recipient=input.recipient,
            line1=input.line1,
            line2=input.line2,
            city=input.city,
            region=input.region,
            postal_code=input.postal_code,
            country=input.country,
            label=input.label,
        )
        async with context.transaction() as session:
            user = await services.ensure_user(
                context.tenant, context.caller, context.require_subject(), session=session
            )
            row = await services.add_address(user, draft, session=session)
        return Address.from_row(row)

    @requires_scopes(scopes.USERS_READ)
    async def remove_address(self, info: Info, id: strawberry.ID) -> User:
        context = info.context
        async with context.transaction() as session:
            user = await services.ensure_user(
                context.tenant, context.caller, context.require_subject(), session=session
            )
            await services.remove_address(user, id, session=session)
        return User.from_row(user)
