"""Field permissions, declared on the field: the Federation directive for the router and a
Strawberry permission class that enforces the same rule inside the subgraph, because a
subgraph is reachable without the router.
"""

from typing import Any

import strawberry
from strawberry.permission import BasePermission, PermissionExtension

from resolvers.context import Context
from resolvers.errors import Forbidden, Unauthenticated


class IsAuthenticated(BasePermission):
    message = "Sign in to use this field."
    error_extensions = {"code": "UNAUTHENTICATED"}

    def has_permission(self, source: Any, info: strawberry.Info[Context[Any], None], **kwargs: Any) -> bool:
        return info.context.caller.is_authenticated


class HasScopes(BasePermission):
    """Passes when the caller holds every listed scope; paired after ``IsAuthenticated`` so an
    anonymous caller hears that they must sign in rather than which scope is missing."""

    error_extensions = {"code": "FORBIDDEN"}

    def __init__(self, scopes: tuple[str, ...]) -> None:
        self.scopes = scopes
        self.message = f"This field needs the scope(s): {' '.join(scopes)}."

    def has_permission(self, source: Any, info: strawberry.Info[Context[Any], None], **kwargs: Any) -> bool:
        caller = info.context.caller
        return all(caller.has_scope(scope) for scope in self.scopes)


class OwnerOrScope(BasePermission):
    """The object rule as a permission: the object's owner, or whoever holds ``scope``."""

    error_extensions = {"code": "FORBIDDEN"}
    message = "This belongs to another user."

    def __init__(self, scope: str, owner: str) -> None:
        self.scope = scope
        self.owner = owner

    def has_permission(self, source: Any, info: strawberry.Info[Context[Any], None], **kwargs: Any) -> bool:
        return info.context.caller.owns_or_holds(getattr(source, self.owner), self.scope)


def authenticated(**field_options: Any) -> Any:
    """A field any signed-in caller may use (object rules are the resolver's business)."""
    return strawberry.federation.field(
        authenticated=True,
        extensions=[PermissionExtension([IsAuthenticated()], use_directives=False)],
        **field_options,
    )


def requires_scopes(*scopes: str, **field_options: Any) -> Any:
    """A field that needs every one of ``scopes``."""
    return strawberry.federation.field(
        requires_scopes=[list(scopes)],
        extensions=[PermissionExtension([IsAuthenticated(), HasScopes(scopes)], use_directives=False)],
        **field_options,
    )


def owner_or(scope: str, *, owner: str = "id", **field_options: Any) -> Any:
    """A field of an object that belongs to a user: its owner (the source's ``owner``
    attribute holds the owner's subject) may read it, and so may holders of ``scope``."""
    return strawberry.federation.field(
        authenticated=True,
        extensions=[PermissionExtension([IsAuthenticated(), OwnerOrScope(scope, owner)], use_directives=False)],
        **field_options,
    )


def owner_or_scope(context: Context[Any], owner_id: str, scope: str) -> None:
    """``OwnerOrScope`` for an object loaded inside a resolver."""
    caller = context.caller
    if caller.subject is None:
        raise Unauthenticated("Sign in to use this field.")
    if not caller.owns_or_holds(owner_id, scope):
        raise Forbidden("This belongs to another user.")
