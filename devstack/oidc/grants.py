"""The grants the provider offers, narrowed from Authlib's defaults to what OAuth 2.1 asks:
authorization codes only with PKCE S256, refresh tokens that rotate, client credentials for
services. Issued codes and refresh tokens live in memory; a restart signs everyone out."""

import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from authlib.oauth2.rfc6749 import InvalidRequestError, OAuth2Request, grants
from authlib.oauth2.rfc6749.util import scope_to_list
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import UserInfo
from authlib.oidc.core.grants import OpenIDCode
from joserfc.jwk import KeySet

from devstack.oidc.directory import OIDC_SCOPES, Account, Client, Principal
from devstack.oidc.keys import KeyRing

CODE_TTL_SECONDS = 60
REFRESH_TTL_SECONDS = 7 * 24 * 3600


@dataclass(slots=True)
class IssuedCode:
    code: str
    client_id: str
    redirect_uri: str
    scope: str
    principal: Principal
    code_challenge: str
    code_challenge_method: str
    nonce: str | None
    auth_time: int = field(default_factory=lambda: int(time.time()))
    expires_at: float = field(default_factory=lambda: time.monotonic() + CODE_TTL_SECONDS)

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str | None:
        return self.nonce

    def get_auth_time(self) -> int:
        return self.auth_time

    def get_acr(self) -> None:
        return None

    def get_amr(self) -> list[str]:
        return ["pwd"]


@dataclass(slots=True)
class IssuedRefreshToken:
    value: str
    client_id: str
    scope: str
    principal: Principal
    expires_at: float = field(default_factory=lambda: time.monotonic() + REFRESH_TTL_SECONDS)

    def check_client(self, client: Client) -> bool:
        return client.client_id == self.client_id

    def get_scope(self) -> str:
        return self.scope


@dataclass(slots=True)
class Store:
    codes: dict[str, IssuedCode] = field(default_factory=dict)
    refresh_tokens: dict[str, IssuedRefreshToken] = field(default_factory=dict)


def granted_scope(requested: str | None, client: Client, account: Account) -> str:
    """What the token may do: the scopes asked for (everything the account holds when none
    are named) that both the client and the account are allowed."""
    wanted = scope_to_list(requested) or sorted(account.scopes | OIDC_SCOPES)
    return " ".join(s for s in wanted if s in client.scopes and (s in account.scopes or s in OIDC_SCOPES))


class S256Only(CodeChallenge):  # type: ignore[misc]
    """PKCE for every client, S256 only: Authlib accepts a request without a challenge, and
    ``plain``, unless told otherwise."""

    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]
    DEFAULT_CODE_CHALLENGE_METHOD = "S256"

    def validate_code_challenge(self, grant: grants.AuthorizationCodeGrant, redirect_uri: str) -> None:
        data = grant.request.payload.data
        if not data.get("code_challenge"):
            raise InvalidRequestError("PKCE is required: send code_challenge with code_challenge_method=S256.")
        if data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("Only code_challenge_method=S256 is accepted.")
        super().validate_code_challenge(grant, redirect_uri)


class AuthorizationCodeGrant(grants.AuthorizationCodeGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]

    @property
    def store(self) -> Store:
        store: Store = self.server.store
        return store

    def save_authorization_code(self, code: str, request: OAuth2Request) -> None:
        principal: Principal = request.user
        data = request.payload.data
        self.store.codes[code] = IssuedCode(
            code=code,
            client_id=request.client.client_id,
            redirect_uri=request.payload.redirect_uri,
            scope=granted_scope(request.payload.scope, request.client, principal.account),
            principal=principal,
            code_challenge=data["code_challenge"],
            code_challenge_method=data["code_challenge_method"],
            nonce=data.get("nonce"),
        )

    def query_authorization_code(self, code: str, client: Client) -> IssuedCode | None:
        issued = self.store.codes.get(code)
        if issued is None or issued.client_id != client.client_id:
            return None
        if issued.expires_at < time.monotonic():
            del self.store.codes[code]
            return None
        return issued

    def delete_authorization_code(self, authorization_code: IssuedCode) -> None:
        self.store.codes.pop(authorization_code.code, None)

    def authenticate_user(self, authorization_code: IssuedCode) -> Principal:
        return authorization_code.principal


class RefreshTokenGrant(grants.RefreshTokenGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]
    INCLUDE_NEW_REFRESH_TOKEN = True

    @property
    def store(self) -> Store:
        store: Store = self.server.store
        return store

    def authenticate_refresh_token(self, refresh_token: str) -> IssuedRefreshToken | None:
        issued = self.store.refresh_tokens.get(refresh_token)
        if issued is None or issued.expires_at < time.monotonic():
            return None
        return issued

    def authenticate_user(self, refresh_token: IssuedRefreshToken) -> Principal:
        return refresh_token.principal

    def revoke_old_credential(self, refresh_token: IssuedRefreshToken) -> None:
        self.store.refresh_tokens.pop(refresh_token.value, None)


class ClientCredentialsGrant(grants.ClientCredentialsGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]


class OpenIDCodeTokens(OpenIDCode):  # type: ignore[misc]
    """ID tokens for the authorization-code flow, signed by the same key ring."""

    def __init__(self, keys: KeyRing, issuer: str) -> None:
        super().__init__(require_nonce=False)
        self.keys = keys
        self.issuer = issuer

    def resolve_client_private_key(self, client: Client) -> KeySet:
        return KeySet([self.keys.signing_key])

    def get_client_algorithm(self, client: Client) -> str:
        return "RS256"

    def get_client_claims(self, client: Client) -> dict[str, Any]:
        return {"iss": self.issuer, "aud": [client.client_id]}

    def get_encode_header(self, client: Client) -> dict[str, str]:
        return {"alg": "RS256", "typ": "JWT"}

    def exists_nonce(self, nonce: str, request: OAuth2Request) -> bool:
        return False

    def generate_user_info(self, user: Principal, scope: str) -> UserInfo:
        info = UserInfo(sub=user.account.subject)
        if "profile" in scope_to_list(scope):
            info["name"] = user.account.name
        if "email" in scope_to_list(scope):
            info["email"] = user.account.email
        return info


def new_refresh_token() -> str:
    return secrets.token_urlsafe(32)
