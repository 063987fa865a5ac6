"""Serves the development key's JWKS where the OIDC provider will live (port 4010)."""

from joserfc.jwk import RSAKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from devstack.tokens import ISSUER, jwks


def create_app(key: RSAKey, issuer: str = ISSUER) -> Starlette:
    async def discovery(_request: Request) -> JSONResponse:
        return JSONResponse(
            {
                "issuer": issuer,
                "jwks_uri": f"{issuer}/.well-known/jwks.json",
                "id_token_signing_alg_values_supported": ["RS256"],
            }
        )

    async def keys(_request: Request) -> JSONResponse:
        return JSONResponse(jwks(key))

    return Starlette(
        routes=[
            Route("/.well-known/openid-configuration", discovery),
            Route("/.well-known/jwks.json", keys),
        ]
    )
