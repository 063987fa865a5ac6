"""The local OIDC provider: authorization code with PKCE (S256 only), refresh tokens and client
credentials, built on Authlib. A development stand-in; production points the same settings at
Keycloak or any other OIDC provider."""
