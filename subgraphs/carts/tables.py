"""Cart tables."""

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from events.store import EventStore
from resolvers.db import UtcDateTime, id_column_type, new_id, utcnow

OPEN = "OPEN"


class Base(DeclarativeBase):
    pass


EVENTS = EventStore(Base.metadata, "carts")


class CartRow(Base):
    __tablename__ = "carts"
    __table_args__ = (
        # At most one open cart per user and tenant, even when two first adds race.
        Index(
            "ux_carts_one_open",
            "tenant_id",
            "user_id",
            unique=True,
            sqlite_where=text("status = 'OPEN'"),
            postgresql_where=text("status = 'OPEN'"),
        ),
    )

    id: Mapped[str] = mapped_column(id_column_type(), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(String(63))
    user_id: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(20), default=OPEN)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, onupdate=utcnow)


class CartLineRow(Base):
    __tablename__ = "cart_lines"
    __table_args__ = (
        # A product appears once per cart; adding it again raises the quantity.
        UniqueConstraint("cart_id", "product_id"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
    )

    id: Mapped[str] = mapped_column(id_column_type(), primary_key=True, default=new_id)
    cart_id: Mapped[str] = mapped_column(ForeignKey("carts.id", ondelete="CASCADE"), index=True)
    tenant_id: Mapped[str] = mapped_column(String(63))
    product_id: Mapped[str] = mapped_column(id_column_type())
    quantity: Mapped[int] = mapped_column(Integer)
    added_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
