"""Order tables. Lines keep a snapshot of name, SKU and price: an order never changes when
the catalog does."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from events.store import EventStore
from resolvers.db import UtcDateTime, id_column_type, new_id, utcnow


class OrderStatus(StrEnum):
    PENDING_PAYMENT = "PENDING_PAYMENT"
    PAID = "PAID"
    PAYMENT_FAILED = "PAYMENT_FAILED"
    CANCELLED = "CANCELLED"
    EXPIRED = "EXPIRED"
    FULFILLED = "FULFILLED"


class Base(DeclarativeBase):
    pass


EVENTS = EventStore(Base.metadata, "orders")


class OrderRow(Base):
    __tablename__ = "orders"
    __table_args__ = (
        UniqueConstraint("tenant_id", "number"),
        # A user's order history is read newest first, a page at a time.
        Index("ix_orders_user_history", "tenant_id", "user_id", "created_at", "id"),
        CheckConstraint("total_amount = subtotal_amount + shipping_amount + tax_amount", name="total_adds_up"),
        # What the expiry sweep reads.
        Index("ix_orders_expiry", "status", "expires_at"),
    )

    id: Mapped[str] = mapped_column(id_column_type(), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(String(63))
    user_id: Mapped[str] = mapped_column(String(255))
    number: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default=OrderStatus.PENDING_PAYMENT)
    currency: Mapped[str] = mapped_column(String(3))
    subtotal_amount: Mapped[int] = mapped_column(BigInteger)
    shipping_amount: Mapped[int] = mapped_column(BigInteger, default=0)
    tax_amount: Mapped[int] = mapped_column(BigInteger, default=0)
    total_amount: Mapped[int] = mapped_column(BigInteger)
    shipping_address: Mapped[dict[str, str | None]] = mapped_column(JSON)
    email: Mapped[str | None] = mapped_column(String(254))
    note: Mapped[str | None] = mapped_column(String(500))
    # The payment attempt under way: its catalog reservation and its payment are keyed by it.
    attempt: Mapped[int] = mapped_column(Integer, default=1)
    # An order still unpaid at this time expires and its stock goes back.
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # A retried payment is under way until then (its process may die: then it lapses): it
    # holds stock like an order awaiting payment, so it counts as one against the shopper's cap.
    retrying_until: Mapped[datetime | None] = mapped_column(UtcDateTime())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, onupdate=utcnow)


class OrderLineRow(Base):
    __tablename__ = "order_lines"
    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),)

    id: Mapped[str] = mapped_column(id_column_type(), primary_key=True, default=new_id)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    tenant_id: Mapped[str] = mapped_column(String(63))
    position: Mapped[int] = mapped_column(Integer)
    product_id: Mapped[str] = mapped_column(id_column_type())
    sku: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    unit_price_amount: Mapped[int] = mapped_column(BigInteger)
    quantity: Mapped[int] = mapped_column(Integer)


class CheckoutRow(Base):
    """One checkout under a shopper's idempotency key. It exists from the moment the checkout
    starts, so a second request with the key finds it: it waits for the first while it runs
    (its lease), answers with its order once it completed, and is refused when its input
    differs. A failed checkout deletes its row: only a placed order is remembered.

    ``early_payment`` keeps a payment outcome that arrived before the order was committed
    (a webhook can beat the checkout's last transaction); the commit applies it."""

    __tablename__ = "checkouts"
    __table_args__ = (UniqueConstraint("tenant_id", "user_id", "idempotency_key"),)

    id: Mapped[str] = mapped_column(id_column_type(), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(String(63))
    user_id: Mapped[str] = mapped_column(String(255))
    idempotency_key: Mapped[str] = mapped_column(String(100))
    request_hash: Mapped[str] = mapped_column(String(64))
    order_id: Mapped[str] = mapped_column(id_column_type(), unique=True)
    attempt: Mapped[int] = mapped_column(Integer, default=1)
    completed: Mapped[bool] = mapped_column(Boolean, default=False)
    lease_until: Mapped[datetime] = mapped_column(UtcDateTime())
    early_payment: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class NotificationRow(Base):
    """Mail to send, written in the transaction of what it announces; the notifications job
    sends it and marks it sent. One confirmation per order, whatever is redelivered."""

    __tablename__ = "notifications"
    __table_args__ = (
        UniqueConstraint("order_id", "kind"),
        Index("ix_notifications_unsent", "sent_at", "created_at"),
    )

    id: Mapped[str] = mapped_column(id_column_type(), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(String(63))
    order_id: Mapped[str] = mapped_column(id_column_type())
    kind: Mapped[str] = mapped_column(String(40))
    to_address: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
