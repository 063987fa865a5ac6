"""The users subgraph's query root."""

import strawberry
from sqlalchemy import func, select

from resolvers import scopes
from resolvers.list_sizes import PAGED
from resolvers.pagination import Connection, Keyset, check_page_size, connection
from resolvers.permissions import requires_any_scope, requires_scopes
from subgraphs.users import services
from subgraphs.users.tables import UserRow
from subgraphs.users.types import Info, User

_NEWEST_FIRST = Keyset(name="users:created:desc", columns=(UserRow.created_at, UserRow.id), descending=True)


@strawberry.type
class Query:
    @requires_any_scope(
        scopes.USERS_READ,
        scopes.USERS_ADMIN,
        description="The caller's profile, created the first time their token is seen.",
    )
    async def me(self, info: Info) -> User:
        context = info.context
        subject = context.require_subject()
        row = await context.loaders.user.load(subject)
        if row is None:  # first sight: only then does reading the profile write
            async with context.transaction() as session:
                row = await services.ensure_user(context.tenant, context.caller, subject, session=session)
        return User.from_row(row)

    @requires_scopes(scopes.USERS_ADMIN, description="Every profile of the store, newest first.", directives=[PAGED])
    async def users(self, info: Info, first: int = 20, after: str | None = None) -> Connection[User]:
        first = check_page_size(first)
        listed = select(UserRow).where(UserRow.tenant_id == info.context.tenant)
        async with info.context.db() as session:
            rows = (await session.scalars(_NEWEST_FIRST.apply(listed, first, after))).all()

        async def count_total() -> int:
            async with info.context.db() as session:
                total = await session.scalar(select(func.count()).select_from(listed.subquery()))
            return int(total or 0)

        return connection(
            rows,
            first=first,
            keyset=_NEWEST_FIRST,
            sort_values=lambda row: (row.created_at, row.id),
            node=User.from_row,
            count_total=count_total,
        )
