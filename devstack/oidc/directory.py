"""Who may sign in and which applications may ask: the demo accounts and registered clients.

The passwords are public on purpose (the README lists them); this provider is a development
stand-in and never runs in production.
"""

import hmac
from dataclasses import dataclass, field

from authlib.oauth2.rfc6749 import ClientMixin
from authlib.oauth2.rfc6749.util import scope_to_list

from resolvers.scopes import SCOPES, SERVICES_INTERNAL, SHOPPER_SCOPES
from resolvers.settings import DEVELOPMENT_SERVICE_SECRET

ALL_SCOPES = frozenset(SCOPES)
OIDC_SCOPES = frozenset({"openid", "profile", "email", "offline_access"})


@dataclass(frozen=True, slots=True)
class Account:
    username: str
    password: str = field(repr=False)
    subject: str
    name: str
    email: str
    tenants: tuple[str, ...]
    scopes: frozenset[str]

    def get_user_id(self) -> str:
        return self.subject

    def check_password(self, password: str) -> bool:
        return hmac.compare_digest(self.password.encode(), password.encode())


@dataclass(frozen=True, slots=True)
class Principal:
    """The signed-in account and the tenant this grant is for; Authlib calls it the user."""

    account: Account
    tenant: str

    def get_user_id(self) -> str:
        return self.account.subject


@dataclass(frozen=True, slots=True)
class Client(ClientMixin):  # type: ignore[misc]
    client_id: str
    redirect_uris: tuple[str, ...] = ()
    secret: str | None = field(default=None, repr=False)
    grant_types: frozenset[str] = frozenset({"authorization_code", "refresh_token"})
    scopes: frozenset[str] = ALL_SCOPES | OIDC_SCOPES

    @property
    def is_public(self) -> bool:
        return self.secret is None

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str | None:
        return self.redirect_uris[0] if self.redirect_uris else None

    def get_allowed_scope(self, scope: str) -> str:
        return " ".join(s for s in scope_to_list(scope) or [] if s in self.scopes)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        return self.secret is not None and hmac.compare_digest(self.secret.encode(), client_secret.encode())

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        if endpoint != "token":
            return True
        return method == "none" if self.is_public else method in {"client_secret_basic", "client_secret_post"}

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code" and "authorization_code" in self.grant_types

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in self.grant_types


DEMO_TENANT = "demo"

ACCOUNTS = {
    account.username: account
    for account in (
        Account(
            "shopper",
            "shopper",
            subject="demo-shopper",
            name="Dana Demo",
            email="shopper@example.com",
            tenants=(DEMO_TENANT,),
            scopes=frozenset(SHOPPER_SCOPES),
        ),
        Account(
            "admin",
            "admin",
            subject="demo-admin",
            name="Avery Admin",
            email="admin@example.com",
            tenants=(DEMO_TENANT, "acme"),
            scopes=ALL_SCOPES,
        ),
        Account(
            "partner",
            "partner",
            subject="partner-acme",
            name="Acme Partner",
            email="partner@acme.example",
            tenants=("acme",),
            scopes=frozenset({"catalog:write", "inventory:write", "orders:read", "orders:admin", "payments:read"}),
        ),
    )
}

# The storefront and GraphiQL run in browsers and the CLI on the user's machine: public
# clients, so PKCE is what keeps a stolen code useless. Redirects go to loopback addresses
# only (RFC 8252); the CLI's is never listened on, it reads the code from the redirect.
STOREFRONT = "storefront"
GRAPHIQL = "graphiql"
CLI = "shopgraph-cli"
SERVICES = "shopgraph-services"


def clients(router_url: str, *, services_secret: str = DEVELOPMENT_SERVICE_SECRET) -> dict[str, Client]:
    registered = (
        Client(STOREFRONT, redirect_uris=("http://127.0.0.1:3000/callback", "http://localhost:3000/callback")),
        Client(GRAPHIQL, redirect_uris=(router_url,)),
        Client(CLI, redirect_uris=("http://127.0.0.1/callback",)),
        Client(
            SERVICES,
            secret=services_secret,
            grant_types=frozenset({"client_credentials"}),
            scopes=frozenset({SERVICES_INTERNAL}),
        ),
    )
    return {client.client_id: client for client in registered}
