"""The provider's HTTP surface: discovery, JWKS, the login page at /authorize, and /token."""

import html
from pathlib import Path

from authlib.oauth2 import OAuth2Error
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from devstack.oidc.directory import ACCOUNTS, Principal, clients
from devstack.oidc.keys import KeyRing
from devstack.oidc.server import AuthorizationServer, StarletteRequest, oauth2_request
from devstack.tokens import AUDIENCE
from resolvers.settings import DEVELOPMENT_SERVICE_SECRET

LOGIN_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in to shopgraph</title>
<style>body{{font:16px system-ui;max-width:24rem;margin:4rem auto}}
label,input,button{{display:block;width:100%;margin:.4rem 0}}
.error{{color:#b00}}small{{color:#555}}</style></head>
<body><h1>Sign in</h1><p>{client} asks to use shopgraph as you.</p>
{error}<form method="post" action="authorize">{hidden}
<label>Username <input name="username" autocomplete="username" autofocus required></label>
<label>Password <input name="password" type="password" autocomplete="current-password" required></label>
<button type="submit">Sign in</button></form>
<p><small>Development provider. Demo accounts: shopper/shopper, admin/admin, partner/partner.</small></p>
</body></html>"""

# Fields of the login form that are not part of the authorization request.
CREDENTIAL_FIELDS = {"username", "password"}


def create_app(
    *,
    key_file: Path,
    issuer: str,
    router_url: str,
    audience: str = AUDIENCE,
    services_secret: str = DEVELOPMENT_SERVICE_SECRET,
) -> Starlette:
    """``services_secret`` is the shopgraph-services client's; subgraphs in production mode
    refuse the development one, so a production-mode run passes another."""
    keys = KeyRing(key_file)
    registered = clients(router_url, services_secret=services_secret)
    server = AuthorizationServer(clients=registered, keys=keys, issuer=issuer, audience=audience)

    async def discovery(_request: Request) -> JSONResponse:
        return JSONResponse(
            {
                "issuer": issuer,
                "authorization_endpoint": f"{issuer}/authorize",
                "token_endpoint": f"{issuer}/token",
                "jwks_uri": f"{issuer}/.well-known/jwks.json",
                "scopes_supported": server.scopes_supported,
                "response_types_supported": ["code"],
                "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
                "code_challenge_methods_supported": ["S256"],
                "token_endpoint_auth_methods_supported": ["none", "client_secret_basic", "client_secret_post"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
            }
        )

    async def jwks(_request: Request) -> JSONResponse:
        return JSONResponse(keys.jwks(), headers={"Cache-Control": "public, max-age=60"})

    async def authorize(request: Request) -> Response:
        oauth_request = await oauth2_request(request)
        try:
            grant = server.get_consent_grant(request=oauth_request)
        except OAuth2Error as error:
            # No trusted redirect yet: say it here rather than send the browser anywhere.
            return JSONResponse(dict(error.get_body()), status_code=400)
        if request.method == "GET":
            return login_page(oauth_request, grant.client.client_id)
        principal = sign_in(oauth_request)
        if principal is None:
            return login_page(oauth_request, grant.client.client_id, "Unknown user, wrong password or tenant.")
        return server.create_authorization_response(  # type: ignore[no-any-return]
            request=oauth_request, grant_user=principal, grant=grant
        )

    async def token(request: Request) -> Response:
        return server.create_token_response(await oauth2_request(request))  # type: ignore[no-any-return]

    return Starlette(
        routes=[
            Route("/.well-known/openid-configuration", discovery),
            Route("/.well-known/jwks.json", jwks),
            Route("/authorize", authorize, methods=["GET", "POST"]),
            Route("/token", token, methods=["POST"]),
        ],
        # Browsers on the router's GraphiQL page and the storefront exchange codes here.
        middleware=[
            Middleware(
                CORSMiddleware,
                allow_origins=[_origin(router_url), "http://127.0.0.1:3000", "http://localhost:3000"],
                allow_methods=["GET", "POST"],
                allow_headers=["content-type", "authorization"],
            )
        ],
    )


def sign_in(request: StarletteRequest) -> Principal | None:
    form = request.form
    account = ACCOUNTS.get(form.get("username", ""))
    if account is None or not account.check_password(form.get("password", "")):
        return None
    tenant = request.payload.data.get("tenant") or account.tenants[0]
    if tenant not in account.tenants:
        return None
    return Principal(account, tenant)


def login_page(request: StarletteRequest, client_id: str, error: str = "") -> HTMLResponse:
    hidden = "".join(
        f'<input type="hidden" name="{html.escape(name)}" value="{html.escape(value)}">'
        for name, value in request.payload.data.items()
        if name not in CREDENTIAL_FIELDS
    )
    page = LOGIN_PAGE.format(
        client=html.escape(client_id),
        error=f'<p class="error">{html.escape(error)}</p>' if error else "",
        hidden=hidden,
    )
    return HTMLResponse(page, status_code=401 if error else 200)


def _origin(url: str) -> str:
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0]}"
