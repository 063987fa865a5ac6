"""The events the users subgraph publishes, each added to the outbox in the transaction of the
change it reports (contracts under ``events/schemas/``). The user's id is the aggregate id."""

from sqlalchemy.ext.asyncio import AsyncSession

from subgraphs.users.tables import EVENTS, AddressRow, UserRow


async def user_registered(session: AsyncSession, user: UserRow) -> None:
    data = {"userId": user.id, "email": user.email, "name": user.name}
    await EVENTS.emit(session, "user.registered", tenant=user.tenant_id, aggregate_id=user.id, data=data)


async def user_updated(session: AsyncSession, user: UserRow) -> None:
    data = {"userId": user.id, "email": user.email, "name": user.name}
    await EVENTS.emit(session, "user.updated", tenant=user.tenant_id, aggregate_id=user.id, data=data)


async def address_added(session: AsyncSession, address: AddressRow) -> None:
    data = {"userId": address.user_id, "addressId": address.id, "label": address.label, "country": address.country}
    await EVENTS.emit(session, "user.address_added", tenant=address.tenant_id, aggregate_id=address.user_id, data=data)


async def address_removed(session: AsyncSession, address: AddressRow) -> None:
    data = {"userId": address.user_id, "addressId": address.id}
    await EVENTS.emit(
        session, "user.address_removed", tenant=address.tenant_id, aggregate_id=address.user_id, data=data
    )
