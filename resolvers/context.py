"""The request context every resolver receives: caller, tenant, database and loaders."""

import re
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import structlog
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from resolvers.auth import Caller
from resolvers.db import is_unique_violation
from resolvers.errors import BadUserInput, Conflict, Forbidden, ShopgraphError, Unauthenticated
from resolvers.runtime import Runtime

L = TypeVar("L")
log = structlog.get_logger(__name__)

TENANT_HEADER = "x-tenant-id"
TENANT_PATTERN = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")

# A socket's operations, and a subscription's events, each run on a context that lives as
# long as the socket: each gets loaders of its own (set in the operation's task, in which its
# fields then resolve), so none is answered from another's cache.
_event_loaders: ContextVar[Any] = ContextVar("event_loaders", default=None)


@dataclass(slots=True)
class Context(Generic[L]):
    """Built per request by the GraphQL app; loaders are per request so no request ever sees
    another's cached rows. ``runtime`` is what the process holds (its clients of other
    services among it).

    Token and tenant problems are kept and raised when a resolver first needs the caller or
    the tenant, so they come back as GraphQL errors with a code rather than as a failed HTTP
    request, and public fields with no tenant (``_service``) keep working.
    """

    runtime: Runtime
    tenant_header: str | None
    verified_caller: Caller | None = None
    auth_error: ShopgraphError | None = None
    make_loaders: "Callable[[Context[L]], L] | None" = None
    # A WebSocket's `connection_init` payload (Strawberry fills it in).
    connection_params: Mapping[str, object] | None = None
    request_loaders: L = field(init=False)

    @property
    def loaders(self) -> L:
        """The request's loaders; inside a subscription, the current event's."""
        current: L | None = _event_loaders.get()
        return self.request_loaders if current is None else current

    def new_event(self) -> None:
        """Gives what is about to be resolved on a socket (an operation, or one event of a
        subscription) loaders of its own."""
        assert self.make_loaders is not None
        _event_loaders.set(self.make_loaders(self))

    async def authenticate(self, authorization: str | None) -> None:
        """Takes the caller from an ``Authorization`` value; a bad one is kept to be raised
        where the caller is first needed."""
        try:
            self.verified_caller, self.auth_error = await self.runtime.verifier.caller_from_header(authorization), None
        except ShopgraphError as exc:
            self.verified_caller, self.auth_error = None, exc

    @property
    def db(self) -> async_sessionmaker[AsyncSession]:
        """Sessions for reads."""
        return self.runtime.db

    @property
    def writer(self) -> async_sessionmaker[AsyncSession]:
        """Sessions for write transactions (see ``transaction``)."""
        return self.runtime.writer

    @property
    def caller(self) -> Caller:
        if self.auth_error is not None:
            raise self.auth_error
        assert self.verified_caller is not None
        return self.verified_caller

    @property
    def tenant(self) -> str:
        """The request's tenant: the X-Tenant-Id header, else the token's, else the default.
        A signed-in caller's token must name the tenant, and the header may only repeat it."""
        caller = self.caller
        claimed = caller.tenant
        if caller.is_authenticated and claimed is None:
            # A token that names no store would otherwise be good for every store.
            raise Forbidden("This access token names no tenant.")
        tenant = self.tenant_header or claimed or self.runtime.settings.default_tenant
        if tenant is None:
            raise BadUserInput("Name the store with the X-Tenant-Id header.", field="X-Tenant-Id")
        if not TENANT_PATTERN.fullmatch(tenant):
            raise BadUserInput("X-Tenant-Id must be 1-63 lowercase letters, digits or dashes.", field="X-Tenant-Id")
        if claimed is not None and claimed != tenant:
            raise Forbidden("This access token belongs to another tenant.")
        return tenant

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """One write transaction, committed when the block ends without an error.

        A unique constraint that fires here means another request wrote the same thing at the
        same moment (the checks before the write could not see it yet): that is a CONFLICT the
        client can retry, not an internal error.
        """
        try:
            async with self.writer.begin() as session:
                yield session
        except IntegrityError as exc:
            if not is_unique_violation(exc):
                raise
            # The constraint, not the database's message: that one quotes the values.
            log.info("write conflicted", constraint=getattr(exc.orig, "constraint_name", None))
            raise Conflict("This conflicts with a change made at the same moment; try again.") from exc

    def require_subject(self) -> str:
        """The caller's subject, for fields that only make sense for a signed-in caller."""
        subject = self.caller.subject
        if subject is None:
            raise Unauthenticated("Sign in to use this field.")
        return subject
