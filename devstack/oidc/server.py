"""Authlib's framework-neutral authorization server bound to Starlette requests, with JWT
access tokens (RFC 9068) that carry the tenant."""

from collections import defaultdict
from typing import Any

from authlib.oauth2 import AuthorizationServer as _AuthorizationServer
from authlib.oauth2.rfc6749 import OAuth2Payload, OAuth2Request
from authlib.oauth2.rfc9068 import JWTBearerTokenGenerator
from joserfc.jwk import KeySet
from starlette.datastructures import FormData, QueryParams
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from devstack.oidc.directory import ALL_SCOPES, OIDC_SCOPES, Client, Principal
from devstack.oidc.grants import (
    AuthorizationCodeGrant,
    ClientCredentialsGrant,
    IssuedRefreshToken,
    OpenIDCodeTokens,
    RefreshTokenGrant,
    S256Only,
    Store,
    new_refresh_token,
)
from devstack.oidc.keys import KeyRing
from resolvers.scopes import SERVICES_INTERNAL

ACCESS_TOKEN_TTL_SECONDS = 3600


class FormPayload(OAuth2Payload):  # type: ignore[misc]
    """The query string and the form body, read once: Authlib reads them synchronously."""

    def __init__(self, query: QueryParams, form: FormData | None) -> None:
        self._values: dict[str, str] = {}
        self._lists: defaultdict[str, list[str]] = defaultdict(list)
        for source in (query, form):
            for key, value in source.multi_items() if source is not None else []:
                if isinstance(value, str):
                    self._values.setdefault(key, value)
                    self._lists[key].append(value)

    @property
    def data(self) -> dict[str, str]:
        return self._values

    @property
    def datalist(self) -> defaultdict[str, list[str]]:
        return self._lists


class StarletteRequest(OAuth2Request):  # type: ignore[misc]
    def __init__(self, request: Request, form: FormData | None) -> None:
        super().__init__(method=request.method, uri=str(request.url), headers=request.headers)
        self.payload = FormPayload(request.query_params, form)
        self._form = {k: v for k, v in (form or {}).items() if isinstance(v, str)}

    @property
    def args(self) -> dict[str, str]:
        return dict(self.payload.data)

    @property
    def form(self) -> dict[str, str]:
        return self._form


async def oauth2_request(request: Request) -> StarletteRequest:
    form = await request.form() if request.method == "POST" else None
    return StarletteRequest(request, form)


class AccessTokens(JWTBearerTokenGenerator):  # type: ignore[misc]
    def __init__(self, keys: KeyRing, issuer: str, audience: str) -> None:
        super().__init__(
            issuer,
            refresh_token_generator=lambda **_context: new_refresh_token(),
            expires_generator=lambda *_context: ACCESS_TOKEN_TTL_SECONDS,
        )
        self.keys = keys
        self.audience = audience

    def get_jwks(self) -> KeySet:
        return KeySet([self.keys.signing_key])

    def get_audiences(self, client: Client, user: Principal | None, scope: str) -> str:
        return self.audience

    def get_extra_claims(self, client: Client, grant_type: str, user: Principal | None, scope: str) -> dict[str, Any]:
        if user is None:
            # Client credentials act for a service, not in one store: the request names it.
            return {}
        account = user.account
        return {"tenant": user.tenant, "name": account.name, "email": account.email}


class AuthorizationServer(_AuthorizationServer):  # type: ignore[misc]
    def __init__(self, *, clients: dict[str, Client], keys: KeyRing, issuer: str, audience: str) -> None:
        super().__init__(scopes_supported=sorted(ALL_SCOPES | OIDC_SCOPES | {SERVICES_INTERNAL}))
        self.clients = clients
        self.store = Store()
        self.register_token_generator("default", AccessTokens(keys, issuer, audience))
        self.register_grant(AuthorizationCodeGrant, [S256Only(required=True), OpenIDCodeTokens(keys, issuer)])
        self.register_grant(RefreshTokenGrant)
        self.register_grant(ClientCredentialsGrant)

    def query_client(self, client_id: str) -> Client | None:
        return self.clients.get(client_id)

    def save_token(self, token: dict[str, Any], request: OAuth2Request) -> None:
        if "refresh_token" in token:
            value = token["refresh_token"]
            self.store.refresh_tokens[value] = IssuedRefreshToken(
                value=value, client_id=request.client.client_id, scope=token.get("scope", ""), principal=request.user
            )

    def create_oauth2_request(self, request: OAuth2Request) -> OAuth2Request:
        # The routes build the request themselves (its body must be read asynchronously).
        return request

    def handle_response(self, status: int, body: Any, headers: list[tuple[str, str]]) -> Response:
        if isinstance(body, dict):
            return JSONResponse(body, status_code=status, headers=dict(headers))
        return Response(body, status_code=status, headers=dict(headers))

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        return None
