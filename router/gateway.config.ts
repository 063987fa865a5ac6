// Hive Gateway configuration for the shopgraph federation router.
//
// Loaded by the gateway's own CLI, which transpiles this TypeScript file itself
// (no TS toolchain needed). The CLI looks for gateway.config.ts in the *current
// working directory*; from anywhere else pass `-c`. Without this file the CLI
// listens on 0.0.0.0, so always pass `--host 127.0.0.1` as well:
//
//   ROUTER_PORT=4000 SUPERGRAPH_PATH=schema/supergraph.graphql \
//     router/node_modules/.bin/hive-gateway supergraph \
//     -c router/gateway.config.ts --host 127.0.0.1
//
// Start the binary from router/node_modules/.bin directly, not through npx or
// npm (a stray parent survives a stop). SIGTERM to its pid stops it cleanly.
// A setting it refuses (settings.ts) stops it at once with every problem listed.
//
// Environment:
//   ENVIRONMENT                 development | production (default development). Production
//                               refuses the development issuer and HMAC secret and debug
//                               logging; turns off introspection, "Did you mean" suggestions,
//                               GraphiQL; takes POST only as JSON and GET only for persisted
//                               documents; runs ad-hoc operations for ADHOC_CLIENTS only
//   ROUTER_PORT                 port (default 4000)
//   ROUTER_HOST                 listen address (default 127.0.0.1; 0.0.0.0 only inside a container)
//   SUPERGRAPH_PATH             supergraph SDL file (default ../schema/supergraph.graphql,
//                               relative to this file; a relative value is taken
//                               from the current directory)
//   ROUTER_SUBGRAPH_TIMEOUT_MS  timeout of one subgraph request (default 30000)
//   ROUTER_LOG_LEVEL            debug | info | warn | error (default info; debug lines carry
//                               request bodies, so production refuses it)
//   OIDC_ISSUER                 the access tokens' issuer (default http://127.0.0.1:4010;
//                               production must set another)
//   OIDC_AUDIENCE               the access tokens' audience (default shopgraph)
//   OIDC_JWKS_URL               the issuer's JWKS (default <OIDC_ISSUER>/.well-known/jwks.json)
//   GRAPHIQL_CLIENT_ID          the public client GraphiQL signs in as (default graphiql)
//   RATE_LIMIT                  requests per caller per window (default 100)
//   RATE_LIMIT_WINDOW_S         the window in seconds (default 60); bursts up to RATE_LIMIT
//   RATE_LIMIT_REDIS_URL        share the limit across routers through this Redis
//                               (default: in this process only)
//   Limits, the same in every mode; a refusal is HTTP 400 (413 for the body) with
//   extensions {code, limit, found}, before any subgraph is called (limits.ts, cost.ts):
//   MAX_DEPTH                   fields on the longest path, fragments expanded (default 10)
//                               QUERY_TOO_DEEP
//   MAX_FIELDS                  fields in the document (default 200) TOO_MANY_FIELDS
//   MAX_ALIASES                 aliased fields in the document (default 30) TOO_MANY_ALIASES
//   MAX_DIRECTIVES              directive applications in the document (default 20)
//                               TOO_MANY_DIRECTIVES
//   MAX_TOKENS                  lexical tokens of the document (default 2000) TOO_MANY_TOKENS
//   MAX_COST                    estimated cost from @cost/@listSize (default 10000)
//                               COST_ESTIMATED_TOO_EXPENSIVE
//   MAX_BODY_BYTES              request body bytes (default 131072) PAYLOAD_TOO_LARGE (413)
//   MAX_BATCH                   operations in one batched request (default 10) BATCH_TOO_LARGE
//   ROUTER_HMAC_SECRET          signs every subgraph request (extensions["hmac-signature"];
//                               default shopgraph-router-development-secret, refused in
//                               production; the subgraphs' router_hmac_secret)
//   CORS_ORIGINS                comma-separated origins browsers may call from (development
//                               default http://127.0.0.1:3000,http://localhost:3000;
//                               production default none)
//   TRUSTED_DOCUMENTS_DIR       the clients' manifests, <client>.json = {sha256: document}
//                               (default ../schema/trusted-documents, relative to this file)
//   APQ_REDIS_URL               keep automatically persisted queries in this Redis, shared by
//                               several routers (default: in this process only)
//   ADHOC_CLIENTS               comma-separated OAuth client ids (the verified token's
//                               client_id or azp) that may send operations not registered
//                               ahead of time, in production (default none; development:
//                               everyone may)
//
// Do not pass the supergraph path as the CLI's positional argument: the CLI then
// watches the file and the process crashes when the file is rewritten in place
// (it reloads the momentarily empty file). Through SUPERGRAPH_PATH the file is
// re-read at most every 10 s (on the next request), and a file that is empty or
// does not parse is ignored in favour of the last good supergraph.

import { readFileSync } from 'node:fs';
import { defineConfig } from '@graphql-hive/gateway';
import { renderGraphiQL } from '@graphql-yoga/render-graphiql';
import { parse } from 'graphql';
import {
  connectionParam,
  forwardedAuthorization,
  useAuthErrorCodes,
  useFieldAuthorization,
  useTokenAuth,
  useWebSocketAuth,
} from './auth.ts';
import { useCors } from './cors.ts';
import { useCostLimit } from './cost.ts';
import {
  SUBGRAPH_CALLER,
  useSubgraphSocketCaller,
  useSubgraphSubscriptionRefusals,
  useSubscriptionRefusals,
} from './subscriptions.ts';
import { maskError, useNoSuggestions } from './errors.ts';
import { withLogin } from './graphiql-login.ts';
import { useHttpRules } from './http-rules.ts';
import { useInputChecks } from './input-checks.ts';
import { useBatchLimit, useBodyLimit, useDocumentLimits } from './limits.ts';
import { MemoryBuckets, RedisBuckets, useRateLimit } from './rate-limit.ts';
import { readSettings } from './settings.ts';
import { subgraphSockets } from './subgraph-sockets.ts';
import { patchWebSocketServers } from './websocket-server.ts';
import {
  loadManifests,
  MemoryDocumentStore,
  partnerClients,
  RedisDocumentStore,
  useTrustedDocuments,
} from './trusted-documents.ts';

const settings = readSettings();
const { production, limits } = settings;
patchWebSocketServers(limits.maxBodyBytes);

const positionalSupergraph = process.argv
  .slice(process.argv.indexOf('supergraph') + 1)
  .find((arg) => /\.(graphqls?|gql)$/.test(arg) && !arg.startsWith('-'));
if (process.argv.includes('supergraph') && positionalSupergraph) {
  process.stderr.write(
    `warning: supergraph given on the command line (${positionalSupergraph}): it overrides ` +
      `SUPERGRAPH_PATH, and the gateway crashes if that file is rewritten in place while it ` +
      `runs; prefer SUPERGRAPH_PATH=${positionalSupergraph}\n`,
  );
}

// ---------------------------------------------------------------------------
// Supergraph: read from a file, validated, last good version kept.

let lastGoodSupergraph: string | undefined;

function loadSupergraph(ctx: { log: { warn: (...args: any[]) => void } }): string {
  try {
    const sdl = readFileSync(settings.supergraphPath, 'utf8');
    parse(sdl, { noLocation: true });
    if (!sdl.includes('join__Graph')) {
      throw new Error('not a supergraph (no join__Graph); compose it with router/compose.mjs');
    }
    lastGoodSupergraph = sdl;
    return sdl;
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    if (lastGoodSupergraph === undefined) {
      throw new Error(`cannot load supergraph ${settings.supergraphPath}: ${reason}`);
    }
    ctx.log.warn(
      { path: settings.supergraphPath, reason },
      'Ignoring unreadable supergraph; keeping the last good one',
    );
    return lastGoodSupergraph;
  }
}

/** Every scope some field of the supergraph asks for: what GraphiQL's sign-in requests (the
 * provider grants the ones the account holds). */
function scopesIn(supergraph: string): string[] {
  const found = new Set<string>();
  for (const [, groups] of supergraph.matchAll(/@requiresScopes\(scopes: (\[.*?\]\])\)/g)) {
    for (const group of JSON.parse(groups) as string[][]) for (const scope of group) found.add(scope);
  }
  return [...found].sort();
}

// ---------------------------------------------------------------------------

/** A client header to pass on; on a WebSocket the `connection_init` payload may carry it. */
function clientHeader(name: string, request: Request, context: object): string | undefined {
  const param = connectionParam(context, name);
  return typeof param === 'string' ? param : (request.headers.get(name) ?? undefined);
}

/** The headers every subgraph request carries for the caller. */
function callerHeaders(request: Request, ctx: Record<string, any>): Record<string, string> {
  const headers: Record<string, string> = {};
  const authorization = forwardedAuthorization(ctx);
  if (authorization) headers.authorization = authorization;
  // A signed-in caller who names no store gets the token's; a different one is refused
  // by the subgraphs.
  const tenant = clientHeader('x-tenant-id', request, ctx) ?? ctx.jwt?.payload?.tenant;
  if (typeof tenant === 'string') headers['x-tenant-id'] = tenant;
  return headers;
}

const DEFAULT_QUERY = `# shopgraph: catalog, users, carts, orders, payments
# behind one federated GraphQL endpoint.
#
# Sign in (top right) with a demo account: shopper/shopper,
# admin/admin or partner/partner. Or set headers in the Headers
# pane below:
# {
#   "Authorization": "Bearer <access token>",
#   "X-Tenant-Id": "<tenant>"
# }
# The tenant defaults to the token's. Fields marked
# @authenticated / @requiresScopes need a token with those scopes.
#
# Browse the schema with the Docs button (left).

query Hello {
  __typename
}
`;

const jwt = useTokenAuth(settings);
const manifests = loadManifests(settings.trustedDocumentsDir);
const documentStore = settings.apqRedisUrl ? new RedisDocumentStore(settings.apqRedisUrl) : new MemoryDocumentStore();

export const gatewayConfig = defineConfig({
  host: settings.host,
  port: settings.port,

  supergraph: loadSupergraph,
  pollingInterval: 10_000, // the CLI's minimum

  // GraphiQL at GET /graphql (Accept: text/html), development only. Yoga's GraphiQL is
  // bundled (no CDN) and, unlike the CLI's default Hive Laboratory, honours defaultQuery.
  graphqlEndpoint: '/graphql',
  renderGraphiQL: (options) =>
    withLogin(renderGraphiQL(options), {
      issuer: settings.issuer,
      clientId: settings.graphiqlClientId,
      scope: ['openid', ...scopesIn(lastGoodSupergraph ?? '')].join(' '),
    }),
  graphiql: production
    ? false
    : { title: 'shopgraph GraphiQL', defaultQuery: DEFAULT_QUERY, shouldPersistHeaders: false },
  landingPage: false,
  ...(production ? { disableIntrospection: {} } : {}),

  // Both answer 200 as soon as the server listens, which is after the supergraph
  // is loaded; neither checks the subgraphs.
  healthCheckEndpoint: '/healthcheck',
  readinessCheckEndpoint: '/readiness',

  cors: false, // useCors below
  batching: { limit: limits.maxBatch },
  hmacSignature: { secret: settings.hmacSecret },

  propagateHeaders: {
    fromClientToSubgraphs({ request, context }) {
      return callerHeaders(request, context as Record<string, any>);
    },
  },

  // Subscriptions reach the subgraphs over graphql-transport-ws (Strawberry's SSE framing is
  // not what the gateway's HTTP executor reads), one socket per caller and subgraph, the
  // caller's headers in its connection_init payload (absent entries are left out), through
  // a transport that never reconnects behind the client's back (subgraph-sockets.ts).
  transports: (kind: string) => (kind === 'ws' ? subgraphSockets : import(`@graphql-mesh/transport-${kind}`)),
  transportEntries: {
    '*.http': {
      options: {
        subscriptions: {
          kind: 'ws',
          options: {
            connectionParams: {
              authorization: `{context.${SUBGRAPH_CALLER}.authorization}`,
              'x-tenant-id': `{context.${SUBGRAPH_CALLER}.tenant}`,
            },
          },
        },
      },
    },
  },

  maskedErrors: production ? { maskError, isDev: false } : { maskError },

  // In this order: HTTP rules and size limits before the body is read; the token verified
  // before anyone decides what the caller may send; each operation counted against its
  // caller's rate before any work on it (refused ones count too); documents resolved before
  // they are counted; variables and cost checked before execution; then each field against
  // the caller's scopes.
  plugins: () => [
    useCors(settings.corsOrigins),
    useHttpRules({ production }),
    useBodyLimit(limits.maxBodyBytes),
    useBatchLimit(limits.maxBatch),
    useInputChecks(),
    useAuthErrorCodes(),
    jwt,
    useWebSocketAuth(jwt),
    useRateLimit({
      store: settings.rateLimitRedisUrl ? new RedisBuckets(settings.rateLimitRedisUrl) : new MemoryBuckets(),
      limit: settings.rateLimit,
      windowMs: settings.rateLimitWindowMs,
    }),
    useTrustedDocuments({
      manifests,
      store: documentStore,
      mayAdhoc: production ? partnerClients(settings.adhocClients) : () => true,
    }),
    useDocumentLimits(limits),
    useCostLimit(limits.maxCost),
    useFieldAuthorization(),
    useSubgraphSocketCaller(callerHeaders),
    useSubscriptionRefusals(),
    useSubgraphSubscriptionRefusals(),
    ...(production ? [useNoSuggestions()] : []),
  ],

  // Per subgraph request; subscriptions are long-lived and are not timed out.
  upstreamTimeout: ({ executionRequest }) =>
    executionRequest?.operationType === 'subscription' ? undefined : settings.subgraphTimeoutMs,

  logging: settings.logLevel,
});
