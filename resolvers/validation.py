"""Input checks shared by every subgraph, each failing with a BAD_USER_INPUT that names the field."""

import uuid

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
