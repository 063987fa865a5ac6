"""Field permissions, declared on the field: the Federation directive for the router and a
Strawberry permission class that enforces the same rule inside the subgraph, because a
subgraph is reachable without the router.

Scopes say what a token may do at all (``orders:read``); the object rule says whose objects
it may do it to (its own, or any of the tenant's with an admin scope such as ``orders:admin``).
"""

from collections.abc import Sequence
from typing import Any

import strawberry
from strawberry.permission import BasePermission, PermissionExtension

from resolvers.auth import Caller
from resolvers.context import Context
from resolvers.errors import Forbidden, Unauthenticated

ScopeGroups = tuple[tuple[str, ...], ...]
"""``@requiresScopes`` semantics: any one group, every scope within it."""


class IsAuthenticated(BasePermission):
    message = "Sign in to use this field."
    error_extensions = {"code": "UNAUTHENTICATED"}

    def has_permission(self, source: Any, info: strawberry.Info[Context[Any], None], **kwargs: Any) -> bool:
        return info.context.caller.is_authenticated


class HasScopes(BasePermission):
    """Passes when the caller holds every scope of at least one group; paired after
    ``IsAuthenticated`` so an anonymous caller hears that they must sign in rather than which
    scope is missing."""

    error_extensions = {"code": "FORBIDDEN"}

    def __init__(self, groups: ScopeGroups) -> None:
        self.groups = groups
        self.message = f"This field needs the scope {_describe(groups)}."

    def has_permission(self, source: Any, info: strawberry.Info[Context[Any], None], **kwargs: Any) -> bool:
        return holds_any(info.context.caller, self.groups)


class OwnerOrScope(BasePermission):
    """The object rule as a permission: the object's owner, or whoever holds ``scope``."""

    error_extensions = {"code": "FORBIDDEN"}
    message = "This belongs to another user."

    def __init__(self, scope: str, owner: str) -> None:
        self.scope = scope
        self.owner = owner

    def has_permission(self, source: Any, info: strawberry.Info[Context[Any], None], **kwargs: Any) -> bool:
        return info.context.caller.owns_or_holds(getattr(source, self.owner), self.scope)


def requires_scopes(*scopes: str, **field_options: Any) -> Any:
    """A field that needs every one of ``scopes``."""
    return _scoped((scopes,), [], field_options)


def requires_any_scope(*scopes: str, **field_options: Any) -> Any:
    """A field that needs one of ``scopes``, typically a shopper's scope or an admin's."""
    return _scoped(tuple((scope,) for scope in scopes), [], field_options)


def owner_or(admin_scope: str, *, reader: str, owner: str = "id", **field_options: Any) -> Any:
    """A field of an object that belongs to a user (the source's ``owner`` attribute holds the
    owner's subject): its owner reads it with ``reader``, anyone else needs ``admin_scope``."""
    return _scoped(((reader,), (admin_scope,)), [OwnerOrScope(admin_scope, owner)], field_options)


def owner_or_scope(context: Context[Any], owner_id: str, admin_scope: str, *, reader: str) -> None:
    """``owner_or`` for an object loaded inside a resolver or by entity reference."""
    caller = context.caller
    if caller.subject is None:
        raise Unauthenticated("Sign in to use this field.")
    groups: ScopeGroups = ((reader,), (admin_scope,))
    if not holds_any(caller, groups):
        raise Forbidden(f"This needs the scope {_describe(groups)}.")
    if not caller.owns_or_holds(owner_id, admin_scope):
        raise Forbidden("This belongs to another user.")


def holds_any(caller: Caller, groups: ScopeGroups) -> bool:
    return any(all(caller.has_scope(scope) for scope in group) for group in groups)


def _scoped(groups: ScopeGroups, rules: Sequence[BasePermission], field_options: dict[str, Any]) -> Any:
    return strawberry.federation.field(
        requires_scopes=[list(group) for group in groups],
        extensions=[PermissionExtension([IsAuthenticated(), HasScopes(groups), *rules], use_directives=False)],
        **field_options,
    )


def _describe(groups: ScopeGroups) -> str:
    return " or ".join(" and ".join(group) for group in groups)
