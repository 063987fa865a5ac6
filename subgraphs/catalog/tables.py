"""Catalog tables. Every row carries its tenant; every lookup filters on it."""

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from events.store import EventStore
from resolvers.db import UtcDateTime, id_column_type, new_id, utcnow


class Base(DeclarativeBase):
    pass


EVENTS = EventStore(Base.metadata, "catalog")


class CategoryRow(Base):
    __tablename__ = "categories"
    __table_args__ = (UniqueConstraint("tenant_id", "slug"),)

    id: Mapped[str] = mapped_column(id_column_type(), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(String(63))
    slug: Mapped[str] = mapped_column(String(80))
    name: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class ProductRow(Base):
    __tablename__ = "products"
    __table_args__ = (
        # A SKU names one product within a store; two stores may reuse it.
        UniqueConstraint("tenant_id", "sku"),
        CheckConstraint("price_amount >= 0", name="price_not_negative"),
        # The storefront lists by (tenant, active) in name, price or age order with id as the
        # tie-breaker; these keep every keyset page an index range scan.
        Index("ix_products_listing_name", "tenant_id", "active", "name", "id"),
        Index("ix_products_listing_price", "tenant_id", "active", "price_amount", "id"),
        Index("ix_products_listing_created", "tenant_id", "active", "created_at", "id"),
    )

    id: Mapped[str] = mapped_column(id_column_type(), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(String(63))
    sku: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    price_amount: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    category_id: Mapped[str | None] = mapped_column(ForeignKey("categories.id"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, onupdate=utcnow)


class StockRow(Base):
    """Inventory for one product: ``reserved`` units are promised to unpaid orders."""

    __tablename__ = "stock_levels"
    __table_args__ = (
        # The invariant checkout relies on: we never promise more than we hold.
        CheckConstraint("on_hand >= 0 AND reserved >= 0 AND reserved <= on_hand", name="stock_consistent"),
    )

    product_id: Mapped[str] = mapped_column(ForeignKey("products.id"), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(63))
    on_hand: Mapped[int] = mapped_column(Integer, default=0)
    reserved: Mapped[int] = mapped_column(Integer, default=0)

    @hybrid_property
    def available(self) -> int:
        """What a shopper can still buy; the same expression in Python and in SQL filters."""
        return self.on_hand - self.reserved


class ReservationStatus(StrEnum):
    HELD = "HELD"
    COMMITTED = "COMMITTED"
    RELEASED = "RELEASED"


class ReservationRow(Base):
    """Units promised to one checkout attempt of an order, under the key its caller chose, so
    that the same request sent again finds its reservation instead of making a second one.
    HELD counts in ``StockRow.reserved``; COMMITTED left the shelf; RELEASED went back."""

    __tablename__ = "stock_reservations"
    __table_args__ = (
        # What the expiry sweep reads: the held reservations past their time.
        Index("ix_stock_reservations_held", "status", "expires_at"),
    )

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(63))
    order_id: Mapped[str] = mapped_column(id_column_type(), index=True)
    status: Mapped[str] = mapped_column(String(20), default=ReservationStatus.HELD)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, onupdate=utcnow)


class ReservationLineRow(Base):
    __tablename__ = "stock_reservation_lines"
    __table_args__ = (CheckConstraint("quantity > 0", name="reserved_quantity_positive"),)

    reservation_id: Mapped[str] = mapped_column(
        ForeignKey("stock_reservations.id", ondelete="CASCADE"), primary_key=True
    )
    product_id: Mapped[str] = mapped_column(ForeignKey("products.id"), primary_key=True)
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price_amount: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))


class ProductOrderDayRow(Base):
    """How many orders included a product on one (UTC) day, counted from ``order.created``:
    kept per day, so "recent" is the sum over a range of days that slides with the date."""

    __tablename__ = "product_order_days"

    tenant_id: Mapped[str] = mapped_column(String(63), primary_key=True)
    product_id: Mapped[str] = mapped_column(id_column_type(), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    orders: Mapped[int] = mapped_column(Integer, default=0)
