"""Payment rules. Functions take a keyword-only ``session`` and never commit.

Stripe arrives in a later step; until then payments are recorded from what the provider said.
"""

from sqlalchemy.ext.asyncio import AsyncSession

from resolvers.money import check_amount, check_currency
from subgraphs.payments.tables import PaymentRow, PaymentStatus


async def record_payment(
    tenant: str,
    *,
    order_id: str,
    user_id: str,
    provider_ref: str,
    amount: int,
    currency: str,
    status: PaymentStatus,
    client_secret: str | None = None,
    session: AsyncSession,
) -> PaymentRow:
    row = PaymentRow(
        tenant_id=tenant,
        order_id=order_id,
        user_id=user_id,
        provider_ref=provider_ref,
        client_secret=client_secret,
        amount=check_amount(amount, field="amount"),
        currency=check_currency(currency),
        status=status,
    )
    session.add(row)
    await session.flush()
    return row
