"""Money as an integer amount of minor units and an ISO 4217 currency: never floats."""

import re

import strawberry

from resolvers.errors import BadUserInput

_CURRENCY = re.compile(r"[A-Z]{3}")
# Ten million in major units: far above any real line price, far below GraphQL's Int limit.
MAX_AMOUNT = 1_000_000_000


@strawberry.federation.type(shareable=True, description="An amount in minor units (cents) and its ISO 4217 currency.")
class Money:
    amount: int
    currency: str


def check_currency(currency: str) -> str:
    if not _CURRENCY.fullmatch(currency):
        raise BadUserInput("currency must be an ISO 4217 code such as USD.", field="currency")
    return currency


def check_amount(amount: int, *, field: str) -> int:
    if not 0 <= amount <= MAX_AMOUNT:
        raise BadUserInput(f"{field} must be between 0 and {MAX_AMOUNT} minor units.", field=field)
    return amount
