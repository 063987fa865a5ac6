"""User domain rules. Functions take a keyword-only ``session`` and never commit."""

import re
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
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_COUNTRY = re.compile(r"[A-Z]{2}")


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


def check_email(email: str) -> str:
    email = validation.text(email, field="email", max_length=254)
    if not _EMAIL.fullmatch(email):
        raise BadUserInput("email is not an email address.", field="email")
    return email.lower()


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
        return check_email(caller.email) if caller.email else None
    except BadUserInput:
        return None


async def update_profile(user: UserRow, *, name: str | None, email: str | None, session: AsyncSession) -> UserRow:
    """Publishes ``user.updated`` when a value changed; saving the same profile publishes nothing."""
    before = (user.name, user.email)
    if name is not None:
        user.name = validation.text(name, field="name", max_length=200)
    if email is not None:
        user.email = check_email(email)
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
    country = draft.country.strip().upper()
    if not _COUNTRY.fullmatch(country):
        raise BadUserInput("country must be an ISO 3166-1 alpha-2 code such as US.", field="country")
    row = AddressRow(
        tenant_id=user.tenant_id,
        user_id=user.id,
        label=_optional(draft.label, field="label", max_length=60),
        recipient=validation.text(draft.recipient, field="recipient", max_length=200),
        line1=validation.text(draft.line1, field="line1", max_length=200),
        line2=_optional(draft.line2, field="line2", max_length=200),
        city=validation.text(draft.city, field="city", max_length=100),
        region=_optional(draft.region, field="region", max_length=100),
        postal_code=validation.text(draft.postal_code, field="postalCode", max_length=20),
        country=country,
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


def _optional(value: str | None, *, field: str, max_length: int) -> str | None:
    if value is None or not value.strip():
        return None
    return validation.text(value, field=field, max_length=max_length)
