"""User domain rules. Functions take a keyword-only ``session`` and never commit."""

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from resolvers import validation
from resolvers.auth import Caller
from resolvers.db import insert_if_absent
from resolvers.errors import BadUserInput, Conflict, NotFound
from subgraphs.users import published
from subgraphs.users.tables import AddressRow, UserRow

MAX_ADDRESSES = 20


@dataclass(frozen=True, slots=True)
class AddressDraft:
    recipient: str
    line1: str
    city: str
    postal_code: str
    country: str
    line2: str | None = None
    region: str | None = None
    label: str | None = None


async def ensure_user(tenant: str, caller: Caller, subject: str, *, session: AsyncSession) -> UserRow:
    """The caller's profile, created (and ``user.registered`` published) on first sight of their
    subject. Two first requests at once both try to insert; the conflict clause lets the
    second one find the first's row, and only the first publishes."""
    profile = {
        "tenant_id": tenant,
        "id": subject,
        "email": _claimed_email(caller),
        "name": (caller.name or "")[:200] or None,
    }
    created = await insert_if_absent(session, UserRow, profile, unique=("tenant_id", "id"))
    # Locked until the transaction ends: a user's changes take turns, so each event reports
    # the profile it leaves and they commit in the order they happened.
    user = await session.get(UserRow, (tenant, subject), with_for_update=True)
    assert user is not None
    if created:
        await published.user_registered(session, user)
    return user


def _claimed_email(caller: Caller) -> str | None:
    try:
        return validation.email(caller.email) if caller.email else None
    except BadUserInput:
        return None


async def update_profile(user: UserRow, *, name: str | None, email: str | None, session: AsyncSession) -> UserRow:
    """Publishes ``user.updated`` when a value changed; saving the same profile publishes nothing."""
    before = (user.name, user.email)
    if name is not None:
        user.name = validation.text(name, field="name", max_length=200)
    if email is not None:
        user.email = validation.email(email)
    if (user.name, user.email) != before:
        await session.flush()
        await published.user_updated(session, user)
    return user


async def add_address(user: UserRow, draft: AddressDraft, *, session: AsyncSession) -> AddressRow:
    count = await session.scalar(
        select(func.count()).where(AddressRow.tenant_id == user.tenant_id, AddressRow.user_id == user.id)
    )
    if (count or 0) >= MAX_ADDRESSES:
        raise Conflict(f"A profile holds at most {MAX_ADDRESSES} addresses.")
    address = validation.postal_address(
        recipient=draft.recipient,
        line1=draft.line1,
        line2=draft.line2,
        city=draft.city,
        region=draft.region,
        postal_code=draft.postal_code,
        country_code=draft.country,
    )
    row = AddressRow(
        tenant_id=user.tenant_id,
        user_id=user.id,
        label=validation.optional_text(draft.label, field="label", max_length=60),
        **address,
    )
    session.add(row)
    await session.flush()
    await published.address_added(session, row)
    return row


async def remove_address(user: UserRow, address_id: str, *, session: AsyncSession) -> None:
    row = await session.get(AddressRow, validation.uuid_id(address_id))
    # Someone else's address is reported exactly like a missing one: ids do not leak.
    if row is None or row.tenant_id != user.tenant_id or row.user_id != user.id:
        raise NotFound("No such address.", field="id")
    await session.delete(row)
    await session.flush()
    await published.address_removed(session, row)
