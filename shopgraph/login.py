"""``shopgraph token``: the authorization-code flow with PKCE, run from a terminal.

Authlib's OAuth client builds the authorization request (S256 challenge) and redeems the code.
The part a browser would play, filling in the provider's login form, is done here: the first
form on the login page gets the username and password, and the redirect back to the CLI's
loopback address carries the code. That works for the local provider and for Keycloak's
standard login page.
"""

from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin

import httpx2
from authlib.common.security import generate_token
from authlib.integrations.httpx_client import AsyncOAuth2Client

CLIENT_ID = "shopgraph-cli"
REDIRECT_URI = "http://127.0.0.1/callback"
MAX_HOPS = 10


class LoginFailed(Exception):
    """The provider refused the sign-in or the flow did not come back with a code."""


@dataclass
class _Form:
    action: str = ""
    fields: dict[str, str] = field(default_factory=dict)


class _FirstForm(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.form: _Form | None = None
        self._done = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "form" and self.form is None:
            self.form = _Form(action=values.get("action", ""))
        elif tag == "input" and self.form is not None and not self._done and values.get("name"):
            self.form.fields[values["name"]] = values.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._done = True


async def access_token(
    issuer: str, username: str, password: str, *, scopes: list[str], tenant: str | None = None
) -> dict[str, Any]:
    """Signs ``username`` in at ``issuer`` and returns the token response."""
    async with httpx2.AsyncClient(timeout=10.0) as browser:
        discovery = (await browser.get(f"{issuer}/.well-known/openid-configuration")).raise_for_status().json()
        oauth = AsyncOAuth2Client(
            CLIENT_ID, redirect_uri=REDIRECT_URI, scope=" ".join(["openid", *scopes]), code_challenge_method="S256"
        )
        verifier = generate_token(64)
        extra = {"tenant": tenant} if tenant else {}
        url, _state = oauth.create_authorization_url(
            discovery["authorization_endpoint"], code_verifier=verifier, **extra
        )
        callback = await _sign_in(browser, url, username, password)
        async with oauth:
            token: dict[str, Any] = await oauth.fetch_token(
                discovery["token_endpoint"], authorization_response=callback, code_verifier=verifier
            )
        return token


async def _sign_in(browser: httpx2.AsyncClient, url: str, username: str, password: str) -> str:
    response = await browser.get(url)
    if response.status_code >= 400 and "text/html" not in response.headers.get("content-type", ""):
        raise LoginFailed(response.text)
    parser = _FirstForm()
    parser.feed(response.text)
    if parser.form is None:
        raise LoginFailed("the provider's login page has no form")
    fields = parser.form.fields | {"username": username, "password": password}
    response = await browser.post(urljoin(str(response.url), parser.form.action), data=fields)
    for _ in range(MAX_HOPS):
        location = response.headers.get("location")
        if location is None:
            raise LoginFailed("wrong username, password or tenant")
        if location.startswith(REDIRECT_URI):
            return location
        response = await browser.get(urljoin(str(response.url), location))
    raise LoginFailed("too many redirects")
