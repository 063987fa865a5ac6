"""Money as an integer amount of minor units and an ISO 4217 currency: never floats."""

import re
from typing import NewType

import strawberry

from resolvers.errors import BadUserInput

_CURRENCY = re.compile(r"[A-Z]{3}")
# The largest price of one unit: ten million in major units, and within GraphQL's 32-bit Int
# so price inputs stay plain Ints. Totals (price x quantity x lines) can pass 2^31, hence Long.
MAX_AMOUNT = 1_000_000_000
# JavaScript clients read JSON numbers as doubles: integers beyond 2^53 would lose cents.
_MAX_SAFE_INTEGER = 2**53 - 1


def _long(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or abs(value) > _MAX_SAFE_INTEGER:
        raise ValueError(f"Long cannot represent {value!r}: an integer within +/-(2^53 - 1) is needed.")
    return value


Long = NewType("Long", int)
LONG_SCALAR = strawberry.scalar(
    name="Long",
    description="An integer up to 2^53 - 1 in size: safe in JavaScript, larger than GraphQL's Int.",
    serialize=_long,
    parse_value=_long,
)


@strawberry.federation.type(shareable=True, description="An amount in minor units (cents) and its ISO 4217 currency.")
class Money:
    amount: Long
    currency: str

    @classmethod
    def of(cls, amount: int, currency: str) -> "Money":
        return cls(amount=Long(amount), currency=currency)


def check_currency(currency: str) -> str:
    if not _CURRENCY.fullmatch(currency):
        raise BadUserInput("currency must be an ISO 4217 code such as USD.", field="currency")
    return currency


def check_amount(amount: int, *, field: str) -> int:
    if not 0 <= amount <= MAX_AMOUNT:
        raise BadUserInput(f"{field} must be between 0 and {MAX_AMOUNT} minor units.", field=field)
    return amount
