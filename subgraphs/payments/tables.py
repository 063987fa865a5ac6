"""Payment tables: one row per PaymentIntent, refunds against it."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Boolean, CheckConstraint, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from events.store import EventStore
from resolvers.db import UtcDateTime, id_column_type, new_id, utcnow


class PaymentStatus(StrEnum):
    REQUIRES_PAYMENT_METHOD = "REQUIRES_PAYMENT_METHOD"
    PROCESSING = "PROCESSING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"
    PARTIALLY_REFUNDED = "PARTIALLY_REFUNDED"
    REFUNDED = "REFUNDED"


class Base(DeclarativeBase):
    pass


EVENTS = EventStore(Base.metadata, "payments")


class PaymentRow(Base):
    """One payment attempt of an order: one PaymentIntent. ``provider_ref`` is empty only
    inside the transaction that asks Stripe for the intent."""

    __tablename__ = "payments"
    __table_args__ = (
        # One PaymentIntent is one payment, however often Stripe tells us about it.
        UniqueConstraint("provider_ref"),
        # One payment per attempt of an order: a retried checkout finds the payment it made.
        UniqueConstraint("tenant_id", "order_id", "attempt", name="uq_payments_order_attempt"),
        # Order.payment reads an order's newest payment.
        Index("ix_payments_order", "tenant_id", "order_id", "created_at"),
        # What the poller reads: payments still waiting for Stripe's word, oldest first.
        Index("ix_payments_unsettled", "status", "created_at"),
        CheckConstraint("refunded_amount >= 0 AND refunded_amount <= amount", name="refunds_within_amount"),
    )

    id: Mapped[str] = mapped_column(id_column_type(), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(String(63))
    order_id: Mapped[str] = mapped_column(id_column_type())
    attempt: Mapped[int] = mapped_column(Integer, default=1)
    user_id: Mapped[str] = mapped_column(String(255))
    provider_ref: Mapped[str | None] = mapped_column(String(255))
    client_secret: Mapped[str | None] = mapped_column(String(255))
    failure_message: Mapped[str | None] = mapped_column(String(500))
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    refunded_amount: Mapped[int] = mapped_column(BigInteger, default=0)
    status: Mapped[str] = mapped_column(String(30), default=PaymentStatus.REQUIRES_PAYMENT_METHOD)
    # When to ask Stripe about it next if no webhook has settled it by then (unset: the
    # webhook grace period after its creation).
    next_check_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # Its order attempt ended unpaid: the intent is to be cancelled, and money it takes
    # anyway (it was already processing) goes straight back.
    void_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, onupdate=utcnow)


class RefundRow(Base):
    __tablename__ = "refunds"
    __table_args__ = (CheckConstraint("amount > 0", name="refund_positive"),)

    id: Mapped[str] = mapped_column(id_column_type(), primary_key=True, default=new_id)
    payment_id: Mapped[str] = mapped_column(ForeignKey("payments.id", ondelete="CASCADE"), index=True)
    tenant_id: Mapped[str] = mapped_column(String(63))
    provider_ref: Mapped[str] = mapped_column(String(255))
    amount: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class StripeEventRow(Base):
    """Every Stripe event we accepted, by Stripe's id: a webhook delivered again finds its id
    here and changes nothing. Written in the transaction of the event's effect."""

    __tablename__ = "stripe_events"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    type: Mapped[str] = mapped_column(String(100))
    payment_id: Mapped[str | None] = mapped_column(id_column_type())
    received_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, index=True)
