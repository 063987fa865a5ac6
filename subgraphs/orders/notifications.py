"""Order mail: the confirmation a paid order's customer receives.

The mail is queued in the transaction that marks the order paid (so it exists if and only if
the order is paid, once per order) and sent by the notifications job over SMTP, which marks
it sent. While the server is unreachable nothing is lost or counted against the mail; a mail
the server refuses is tried ``MAX_ATTEMPTS`` times, then given up with an error in the log. A
crash between sending and marking sends it again, under the same Message-ID. One orders worker
sends the mail (two would each send the whole queue).
"""

from collections.abc import Sequence
from email.message import EmailMessage

import aiosmtplib
import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from resolvers.db import insert_if_absent, new_id, utcnow
from subgraphs.orders.settings import OrdersSettings
from subgraphs.orders.tables import NotificationRow, OrderLineRow, OrderRow

log = structlog.get_logger(__name__)

CONFIRMATION = "order_confirmation"
BATCH = 20
MAX_ATTEMPTS = 20


# ISO 4217 currencies without minor units; the rest have two (cents), as our prices assume.
_WHOLE_UNITS = frozenset({"JPY", "KRW", "VND", "CLP", "ISK", "UGX", "XAF", "XOF", "PYG", "RWF"})


def _money(amount: int, currency: str) -> str:
    if currency in _WHOLE_UNITS:
        return f"{amount:,} {currency}"
    return f"{amount / 100:,.2f} {currency}"


def confirmation_text(order: OrderRow, lines: Sequence[OrderLineRow]) -> tuple[str, str]:
    """Subject and body of the confirmation: the number, each line, the total."""
    recipient = order.shipping_address.get("recipient") or "there"
    rows = [
        f"  {line.quantity} x {line.name} ({line.sku}) at {_money(line.unit_price_amount, order.currency)}"
        f" = {_money(line.unit_price_amount * line.quantity, order.currency)}"
        for line in lines
    ]
    body = "\n".join(
        [
            f"Hello {recipient},",
            "",
            f"thank you for your order {order.number}. We received your payment.",
            "",
            *rows,
            "",
            f"Total: {_money(order.total_amount, order.currency)}",
            "",
            "We will let you know when it ships.",
        ]
    )
    return f"Your order {order.number} is confirmed", body


async def queue_confirmation(order: OrderRow, lines: Sequence[OrderLineRow], *, session: AsyncSession) -> None:
    if not order.email:
        log.warning("paid order has no email address; no confirmation", order_id=order.id)
        return
    subject, body = confirmation_text(order, lines)
    await insert_if_absent(
        session,
        NotificationRow,
        {
            "id": new_id(),
            "tenant_id": order.tenant_id,
            "order_id": order.id,
            "kind": CONFIRMATION,
            "to_address": order.email,
            "subject": subject,
            "body": body,
            "attempts": 0,
            "created_at": utcnow(),
        },
        unique=("order_id", "kind"),
    )


async def send_queued(sessions: async_sessionmaker[AsyncSession], settings: OrdersSettings) -> int:
    """Sends everything queued, oldest first, over one SMTP connection per batch; what the
    server refuses stays queued for the next round (up to ``MAX_ATTEMPTS`` tries)."""
    sent = 0
    while True:
        async with sessions() as session:
            queued = list(
                await session.scalars(
                    select(NotificationRow)
                    .where(NotificationRow.sent_at.is_(None), NotificationRow.attempts < MAX_ATTEMPTS)
                    .order_by(NotificationRow.created_at)
                    .limit(BATCH)
                )
            )
        if not queued:
            return sent
        delivered, refused = await _deliver(queued, settings)
        async with sessions.begin() as session:
            for mail in queued:
                row = await session.get(NotificationRow, mail.id)
                if row is None or (mail.id not in delivered and mail.id not in refused):
                    continue
                row.attempts += 1
                if mail.id in delivered:
                    row.sent_at = utcnow()
                elif row.attempts >= MAX_ATTEMPTS:
                    log.error("mail given up", notification_id=row.id, order_id=row.order_id)
        sent += len(delivered)
        if len(delivered) < len(queued):
            return sent  # the rest next round


async def _deliver(mails: list[NotificationRow], settings: OrdersSettings) -> tuple[set[str], set[str]]:
    """The ids of the mails the SMTP server accepted, and of those it refused; a mail it never
    saw (the server went away) is in neither."""
    accepted: set[str] = set()
    refused: set[str] = set()
    smtp = aiosmtplib.SMTP(hostname=settings.smtp_host, port=settings.smtp_port, timeout=settings.smtp_timeout_seconds)
    try:
        async with smtp:
            for mail in mails:
                try:
                    await smtp.send_message(_message(mail, settings))
                except (aiosmtplib.SMTPResponseException, aiosmtplib.SMTPRecipientsRefused) as exc:
                    # The server's reply quotes the address; its code says enough.
                    code = exc.code if isinstance(exc, aiosmtplib.SMTPResponseException) else None
                    log.warning("mail refused", notification_id=mail.id, smtp_code=code)
                    refused.add(mail.id)
                else:
                    accepted.add(mail.id)
    except (aiosmtplib.SMTPException, OSError) as exc:
        log.warning(
            "mail server unreachable", error=type(exc).__name__, unsent=len(mails) - len(accepted) - len(refused)
        )
    return accepted, refused


def _message(mail: NotificationRow, settings: OrdersSettings) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = mail.to_address
    message["Subject"] = mail.subject
    message["Message-ID"] = f"<{mail.id}@shopgraph>"
    message.set_content(mail.body)
    return message
