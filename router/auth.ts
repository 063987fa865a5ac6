// Who is calling, and what each field lets them do.
//
// The JWT plugin verifies the bearer token against the OIDC provider's JWKS (RS256 only,
// issuer, audience, expiry and not-before with a small leeway). A missing token leaves the
// caller anonymous; a bad one refuses the request. generic-auth then enforces the
// supergraph's @authenticated and @requiresScopes per field: a denied field becomes null
// with an UNAUTHENTICATED or FORBIDDEN error and its siblings still resolve. The subgraphs
// check the same directives again, since they can be reached without the router.

import { useGenericAuth, type ValidateUserFnParams } from '@envelop/generic-auth';
import { extractFromHeader, useJWT } from '@graphql-mesh/plugin-jwt-auth';
import { createGraphQLError } from 'graphql-yoga';
import { JwksClient } from 'jwks-rsa';

export interface AuthOptions {
  issuer: string;
  audience: string;
  jwksUri: string;
}

const LEEWAY_SECONDS = 30;
const ACCESS_TOKEN_TYPES = new Set(['at+jwt', 'application/at+jwt']);

function unauthenticated(message: string) {
  return createGraphQLError(message, { extensions: { code: 'UNAUTHENTICATED', http: { status: 401 } } });
}

const bearer = extractFromHeader({ name: 'authorization', prefix: 'Bearer' });

/**
 * Finds the bearer token and checks its header before the JWT plugin verifies it: it must say
 * it is an access token (RFC 9068; an ID token is signed by the same provider but was never
 * meant for this API), it must expire, and its key must be in the provider's JWKS. The plugin reports any
 * key problem as an internal error, so an unknown key (UNAUTHENTICATED) and a provider that
 * cannot be reached (SERVICE_UNAVAILABLE) are told apart here.
 */
function accessTokenLookup(jwks: JwksClient) {
  return async (payload: Parameters<typeof bearer>[0]) => {
    let found: { token: string; prefix?: string } | undefined;
    try {
      found = bearer(payload) as typeof found;
    } catch {
      throw unauthenticated("The Authorization header must be 'Bearer <access token>'.");
    }
    if (!found) return found;
    let header: { typ?: unknown; kid?: unknown };
    let claims: { exp?: unknown };
    try {
      const [head, body] = found.token.split('.', 2);
      [header, claims] = [head, body].map((part) => JSON.parse(Buffer.from(part, 'base64url').toString()));
    } catch {
      throw unauthenticated('The access token is malformed.');
    }
    // jsonwebtoken checks exp only when present; a token without one would never expire.
    // (The signature, checked next by the plugin, vouches for the claims read here.)
    if (typeof claims?.exp !== 'number') throw unauthenticated('The access token has no expiry.');
    if (typeof header.typ !== 'string' || !ACCESS_TOKEN_TYPES.has(header.typ.toLowerCase())) {
      throw unauthenticated('This is not an access token (its typ must be at+jwt).');
    }
    try {
      await jwks.getSigningKey(typeof header.kid === 'string' ? header.kid : undefined);
    } catch (error) {
      if ((error as Error).name === 'SigningKeyNotFoundError') {
        throw unauthenticated('The access token was signed by an unknown key.');
      }
      throw createGraphQLError('Access tokens cannot be verified right now; try again shortly.', {
        extensions: { code: 'SERVICE_UNAVAILABLE', http: { status: 503 } },
      });
    }
    return found;
  };
}

export function jwtOptions(options: AuthOptions) {
  // Keys are cached per kid; an unknown kid (a rotated key) fetches the JWKS again, at most
  // 10 times a minute however many forged kids arrive.
  const jwks = new JwksClient({
    jwksUri: options.jwksUri,
    cache: true,
    rateLimit: true,
    jwksRequestsPerMinute: 10,
    timeout: 5_000,
  });
  return {
    tokenLookupLocations: [accessTokenLookup(jwks)],
    signingKeyProviders: [async (kid?: string) => (await jwks.getSigningKey(kid)).getPublicKey()],
    tokenVerification: {
      algorithms: ['RS256' as const],
      issuer: options.issuer,
      audience: options.audience,
      clockTolerance: LEEWAY_SECONDS,
    },
    reject: { missingToken: false, invalidToken: true },
    // Subgraphs verify the token themselves; they need nothing but the header.
    forward: { payload: false, token: false },
  };
}

function scopesOf(claims: Record<string, any> | null | undefined): string[] {
  return typeof claims?.scope === 'string' ? claims.scope.split(' ').filter(Boolean) : [];
}

function holdsOneGroup(groups: string[][], scopes: string[]): boolean {
  return groups.some((group) => group.every((scope) => scopes.includes(scope)));
}

/** The same answers the subgraphs give: UNAUTHENTICATED for an anonymous caller on a
 * protected field, FORBIDDEN for a signed-in caller without the scope. */
function validateUser(params: ValidateUserFnParams<Record<string, any>>) {
  const { user, fieldAuthArgs, fieldScopes, typeAuthArgs, typeScopes, fieldNode, path } = params;
  const groups = [fieldScopes, typeScopes].filter((g): g is string[][] => Array.isArray(g) && g.length > 0);
  const needsCaller = Boolean(fieldAuthArgs || typeAuthArgs) || groups.length > 0;
  if (!needsCaller) return undefined;
  const at = { nodes: [fieldNode], path };
  if (user == null) {
    return createGraphQLError('Sign in to use this field.', { ...at, extensions: { code: 'UNAUTHENTICATED' } });
  }
  const scopes = scopesOf(user);
  for (const group of groups) {
    if (!holdsOneGroup(group, scopes)) {
      const wanted = group.map((g) => g.join(' and ')).join(' or ');
      return createGraphQLError(`This field needs the scope ${wanted}.`, { ...at, extensions: { code: 'FORBIDDEN' } });
    }
  }
  return undefined;
}

/** Registered as a plugin rather than the gateway's top-level option, which breaks over WebSocket. */
export function useFieldAuthorization() {
  return useGenericAuth({
    mode: 'protect-granular',
    resolveUserFn: (context: Record<string, any>) => context.jwt?.payload ?? null,
    validateUser,
    rejectUnauthenticated: false,
  });
}

/** The JWT plugin refuses a bad token with HTTP 401 (400 when it does not decode) but no
 * error code; give those the code every other authentication failure has. */
export function useAuthErrorCodes() {
  const isJwtRefusal = (error: any) =>
    error?.extensions?.code === undefined &&
    (error?.extensions?.http?.status === 401 || error?.message === 'Invalid authentication token provided');
  return {
    onResultProcess({ result, setResult }: { result: any; setResult: (result: any) => void }) {
      const errors: any[] | undefined = result?.errors;
      if (!Array.isArray(errors) || !errors.some(isJwtRefusal)) return;
      setResult({
        ...result,
        errors: errors.map((error) =>
          isJwtRefusal(error)
            ? createGraphQLError('The access token is not valid.', {
                extensions: { code: 'UNAUTHENTICATED', http: { status: 401 } },
              })
            : error,
        ),
      });
    },
  };
}

export { useJWT };
