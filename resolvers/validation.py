"""Input checks shared by every subgraph, each failing with a BAD_USER_INPUT that names the field."""

import re
import uuid

import pycountry

from resolvers.errors import BadUserInput


def text(value: str, *, field: str, max_length: int, allow_empty: bool = False) -> str:
    cleaned = value.strip()
    if any(ord(ch) < 32 and ch not in "\n\t" for ch in cleaned):
        # NUL in particular: PostgreSQL refuses it in text, and no name or address needs it.
        raise BadUserInput(f"{field} must not contain control characters.", field=field)
    if not cleaned and not allow_empty:
        raise BadUserInput(f"{field} must not be empty.", field=field)
    if len(cleaned) > max_length:
        raise BadUserInput(f"{field} must be at most {max_length} characters.", field=field)
    return cleaned


def uuid_id(value: str, *, field: str = "id") -> str:
    """The canonical form of a UUID id, or BAD_USER_INPUT for anything else."""
    try:
        return str(uuid.UUID(value))
    except (ValueError, AttributeError) as exc:
        raise BadUserInput(f"{field} is not a valid id.", field=field) from exc


def is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except (ValueError, AttributeError):
        return False
    return True


_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def email(value: str, *, field: str = "email") -> str:
    cleaned = text(value, field=field, max_length=254)
    if not _EMAIL.fullmatch(cleaned):
        raise BadUserInput(f"{field} is not an email address.", field=field)
    return cleaned.lower()


def optional_text(value: str | None, *, field: str, max_length: int) -> str | None:
    """Like ``text``, with blank meaning absent."""
    if value is None or not value.strip():
        return None
    return text(value, field=field, max_length=max_length)


# The officially assigned ISO 3166-1 alpha-2 codes, from pycountry's copy of the standard
# (Debian's iso-codes), so a new or withdrawn country arrives with a dependency update.
_COUNTRIES = frozenset(country.alpha_2 for country in pycountry.countries)


def country(value: str, *, field: str = "country") -> str:
    cleaned = value.strip().upper()
    if cleaned not in _COUNTRIES:
        raise BadUserInput(f"{field} must be an ISO 3166-1 alpha-2 country code such as US.", field=field)
    return cleaned


def postal_address(
    *, recipient: str, line1: str, line2: str | None, city: str, region: str | None, postal_code: str, country_code: str
) -> dict[str, str | None]:
    """A postal address's parts, each checked: how profiles and orders both keep one."""
    return {
        "recipient": text(recipient, field="recipient", max_length=200),
        "line1": text(line1, field="line1", max_length=200),
        "line2": optional_text(line2, field="line2", max_length=200),
        "city": text(city, field="city", max_length=100),
        "region": optional_text(region, field="region", max_length=100),
        "postal_code": text(postal_code, field="postalCode", max_length=20),
        "country": country(country_code),
    }
