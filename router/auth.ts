// Who is calling, and what each field lets them do.
//
// The JWT plugin verifies the bearer token against the OIDC provider's JWKS (RS256 only,
// issuer, audience, expiry and not-before with a small leeway). A missing token leaves the
// caller anonymous; a bad one refuses the request. generic-auth then enforces the
// supergraph's @authenticated and @requiresScopes per field: a denied field becomes null
// with an UNAUTHENTICATED or FORBIDDEN error and its siblings still resolve. The subgraphs
// check the same directives again, since they can be reached without the router.
//
// Over a WebSocket (graphql-transport-ws) the token comes in the `connection_init` payload,
// `{"Authorization": "Bearer <jwt>"}` (the key in any case). The gateway's graphql-ws server
// has no connection hook, so the token is verified when the socket's first operation arrives,
// before anything else looks at it; a bad one closes the socket with 4403 (Forbidden).
//
// Yoga's JWT plugin is used directly rather than through @graphql-mesh/plugin-jwt-auth: the
// mesh wrapper only adds forwarding the token to subgraphs in extensions (not wanted here), and
// hides the plugin instance the WebSocket check needs.

import { useGenericAuth, type ValidateUserFnParams } from '@envelop/generic-auth';
import { type ExtractTokenFunction, type JwtPluginOptions, useJWT } from '@graphql-yoga/plugin-jwt';
import { GraphQLError } from 'graphql';
import { createGraphQLError } from 'graphql-yoga';
import { JwksClient } from 'jwks-rsa';
import { isRefused, refuse } from './errors.ts';

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

/** Close code of graphql-transport-ws for a refused connection. */
const FORBIDDEN = 4403;

type LookupPayload = Parameters<ExtractTokenFunction>[0];

/** Whether a context is an operation on a graphql-transport-ws socket (the gateway puts the
 * `connection_init` payload into it, possibly undefined). */
export function onWebSocket(context: object | undefined): boolean {
  return context !== undefined && 'connectionParams' in context;
}

/** An entry of a socket's `connection_init` payload, its key in any case; undefined elsewhere. */
export function connectionParam(context: object | undefined, name: string): unknown {
  if (!onWebSocket(context)) return undefined;
  const params = (context as { connectionParams?: unknown }).connectionParams;
  if (params === null || typeof params !== 'object') return undefined;
  const key = Object.keys(params).find((given) => given.toLowerCase() === name);
  return key === undefined ? undefined : (params as Record<string, unknown>)[key];
}

/** The raw Authorization value: the socket's connection parameters, else the HTTP header. */
function authorization({ request, serverContext }: LookupPayload): string | undefined {
  if (onWebSocket(serverContext)) {
    const value = connectionParam(serverContext, 'authorization');
    return value === undefined ? undefined : typeof value === 'string' ? value : '';
  }
  return request?.headers.get('authorization') ?? undefined;
}

/** `Bearer <token>`, the scheme in any case (RFC 9110 section 11.1). */
function bearer(payload: LookupPayload): { token: string; prefix: string } | undefined {
  const value = authorization(payload);
  if (value === undefined) return undefined;
  const match = /^(\S+)[ \t]+(\S+)$/.exec(value.trim());
  if (!match || match[1].toLowerCase() !== 'bearer') {
    throw unauthenticated("The Authorization header must be 'Bearer <access token>'.");
  }
  return { token: match[2], prefix: 'Bearer' };
}

/**
 * Finds the bearer token and checks its header before the JWT plugin verifies it: it must say
 * it is an access token (RFC 9068; an ID token is signed by the same provider but was never
 * meant for this API), it must expire, and its key must be in the provider's JWKS. The plugin reports any
 * key problem as an internal error, so an unknown key (UNAUTHENTICATED) and a provider that
 * cannot be reached (SERVICE_UNAVAILABLE) are told apart here.
 */
function accessTokenLookup(jwks: JwksClient) {
  return async (payload: LookupPayload) => {
    const found = bearer(payload);
    if (!found) return found;
    let header: { typ?: unknown; kid?: unknown } | null;
    let claims: { exp?: unknown } | null;
    try {
      const [head, body] = found.token.split('.', 2);
      [header, claims] = [head, body].map((part) => JSON.parse(Buffer.from(part, 'base64url').toString()));
    } catch {
      throw unauthenticated('The access token is malformed.');
    }
    // jsonwebtoken checks exp only when present; a token without one would never expire.
    // (The signature, checked next by the plugin, vouches for the claims read here.)
    if (typeof claims?.exp !== 'number') throw unauthenticated('The access token has no expiry.');
    if (typeof header?.typ !== 'string' || !ACCESS_TOKEN_TYPES.has(header.typ.toLowerCase())) {
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

export function jwtOptions(options: AuthOptions): JwtPluginOptions {
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
  };
}

export function useTokenAuth(options: AuthOptions) {
  return useJWT(jwtOptions(options));
}

/** Verifies a socket's token before its first operation is looked at; see the top of the file. */
export function useWebSocketAuth(jwt: ReturnType<typeof useTokenAuth>) {
  return {
    async onParams(payload: any) {
      const context: Record<string, any> = payload.context;
      if (!onWebSocket(context) || context.jwt || isRefused(context)) return;
      try {
        await jwt.onContextBuilding!({
          context,
          extendContext: (extension: object) => Object.assign(context, extension),
        } as any);
      } catch (error) {
        if (!(error instanceof GraphQLError)) throw error;
        // A provider that cannot be reached is not the caller's fault: that operation fails, the
        // socket stays.
        if (error.extensions.code !== 'SERVICE_UNAVAILABLE') context.socket?.close(FORBIDDEN, 'Forbidden');
        refuse(payload, error);
      }
    },
  };
}

/** What the subgraphs get: the verified token (over HTTP or a socket), in the canonical form. */
export function forwardedAuthorization(context: Record<string, any>): string | undefined {
  const token = context.jwt?.token?.value;
  return typeof token === 'string' ? `Bearer ${token}` : undefined;
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

