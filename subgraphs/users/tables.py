"""User tables. A user's id is the token's subject, so every subgraph knows the caller's
user id without asking this one."""

from datetime import datetime

from sqlalchemy import ForeignKeyConstraint, Index, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from events.store import EventStore
from resolvers.db import UtcDateTime, id_column_type, new_id, utcnow


class Base(DeclarativeBase):
    pass


EVENTS = EventStore(Base.metadata, "users")


class UserRow(Base):
    __tablename__ = "users"
    __table_args__ = (Index("ix_users_listing", "tenant_id", "created_at", "id"),)

    tenant_id: Mapped[str] = mapped_column(String(63), primary_key=True)
    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    email: Mapped[str | None] = mapped_column(String(254))
    name: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, onupdate=utcnow)


class AddressRow(Base):
    __tablename__ = "addresses"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "user_id"], ["users.tenant_id", "users.id"], ondelete="CASCADE"),
        Index("ix_addresses_user", "tenant_id", "user_id"),
    )

    id: Mapped[str] = mapped_column(id_column_type(), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(String(63))
    user_id: Mapped[str] = mapped_column(String(255))
    label: Mapped[str | None] = mapped_column(String(60))
    recipient: Mapped[str] = mapped_column(String(200))
    line1: Mapped[str] = mapped_column(String(200))
    line2: Mapped[str | None] = mapped_column(String(200))
    city: Mapped[str] = mapped_column(String(100))
    region: Mapped[str | None] = mapped_column(String(100))
    postal_code: Mapped[str] = mapped_column(String(20))
    country: Mapped[str] = mapped_column(String(2))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
