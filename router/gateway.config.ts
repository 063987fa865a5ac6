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
//
// Environment:
//   ROUTER_PORT                 port (default 4000)
//   ROUTER_HOST                 listen address (default 127.0.0.1; 0.0.0.0 only inside a container)
//   SUPERGRAPH_PATH             supergraph SDL file (default ../schema/supergraph.graphql,
//                               relative to this file; a relative value is taken
//                               from the current directory)
//   ROUTER_SUBGRAPH_TIMEOUT_MS  timeout of one subgraph request (default 30000)
//   ROUTER_LOG_LEVEL            debug | info | warn | error (default info)
//   OIDC_ISSUER                 the access tokens' issuer (default http://127.0.0.1:4010)
//   OIDC_AUDIENCE               the access tokens' audience (default shopgraph)
//   OIDC_JWKS_URL               the issuer's JWKS (default <OIDC_ISSUER>/.well-known/jwks.json)
//   GRAPHIQL_CLIENT_ID          the public client GraphiQL signs in as (default graphiql)
//   RATE_LIMIT                  requests per caller per window (default 100)
//   RATE_LIMIT_WINDOW_S         the window in seconds (default 60); bursts up to RATE_LIMIT
//   RATE_LIMIT_REDIS_URL        share the limit across routers through this Redis
//                               (default: in this process only)
//
// Do not pass the supergraph path as the CLI's positional argument: the CLI then
// watches the file and the process crashes when the file is rewritten in place
// (it reloads the momentarily empty file). Through SUPERGRAPH_PATH the file is
// re-read at most every 10 s (on the next request), and a file that is empty or
// does not parse is ignored in favour of the last good supergraph.

import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from '@graphql-hive/gateway';
import { renderGraphiQL } from '@graphql-yoga/render-graphiql';
import { GraphQLError, parse } from 'graphql';
import { maskError as yogaMaskError } from 'graphql-yoga';
import { jwtOptions, useAuthErrorCodes, useFieldAuthorization, useJWT } from './auth.ts';
import { withLogin } from './graphiql-login.ts';
import { MemoryBuckets, RedisBuckets, useRateLimit } from './rate-limit.ts';

// 127.0.0.1 unless ROUTER_HOST says otherwise (a container publishing its port sets 0.0.0.0).
const HOST = process.env.ROUTER_HOST ?? '127.0.0.1';

/** Client request headers forwarded unchanged to every subgraph request. */
export const PROPAGATED_HEADERS = ['authorization', 'x-tenant-id'] as const;

function intFromEnv(name: string, fallback: number, min: number, max: number): number {
  const raw = process.env[name] ?? String(fallback);
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`${name} must be an integer in [${min}, ${max}], got "${raw}"`);
  }
  return value;
}

const port = intFromEnv('ROUTER_PORT', 4000, 1, 65535);
const subgraphTimeoutMs = intFromEnv('ROUTER_SUBGRAPH_TIMEOUT_MS', 30_000, 1, 3_600_000);
const rateLimit = intFromEnv('RATE_LIMIT', 100, 1, 1_000_000);
const rateLimitWindowMs = intFromEnv('RATE_LIMIT_WINDOW_S', 60, 1, 86_400) * 1000;
const issuer = process.env.OIDC_ISSUER ?? 'http://127.0.0.1:4010';
const audience = process.env.OIDC_AUDIENCE ?? 'shopgraph';
const jwksUri = process.env.OIDC_JWKS_URL ?? `${issuer}/.well-known/jwks.json`;

// ---------------------------------------------------------------------------
// Refuse settings this router must never run with. The CLI's --host/--port flags
// and HOST/PORT variables override this file, and its HIVE_*/APOLLO_*/
// OPENTELEMETRY variables turn on reporting to outside hosts.

function cliFlag(names: string[]): string | undefined {
  const argv = process.argv;
  for (let i = 0; i < argv.length; i++) {
    for (const name of names) {
      if (argv[i] === name) return argv[i + 1];
      if (argv[i].startsWith(`${name}=`)) return argv[i].slice(name.length + 1);
    }
  }
  return undefined;
}

const cliHost = cliFlag(['--host', '-h']) ?? process.env.HOST;
if (cliHost !== undefined && cliHost !== HOST) {
  throw new Error(`the router only listens on ${HOST}; unset HOST / drop --host (got "${cliHost}")`);
}
const cliPort = cliFlag(['--port', '-p']) ?? process.env.PORT;
if (cliPort !== undefined && Number(cliPort) !== port) {
  throw new Error(`PORT/--port (${cliPort}) would override ROUTER_PORT (${port}); set ROUTER_PORT only`);
}

const REPORTING_VARS = [
  'HIVE_TARGET',
  'HIVE_ACCESS_TOKEN',
  'HIVE_USAGE_ACCESS_TOKEN',
  'HIVE_TRACE_ACCESS_TOKEN',
  'HIVE_REGISTRY_TOKEN',
  'HIVE_USAGE_TARGET',
  'HIVE_CDN_ENDPOINT',
  'HIVE_CDN_KEY',
  'APOLLO_KEY',
  'APOLLO_GRAPH_REF',
  'APOLLO_SCHEMA_CONFIG_DELIVERY_ENDPOINT',
  'OPENTELEMETRY',
];
const reportingSet = REPORTING_VARS.filter((name) => process.env[name]);
if (reportingSet.length > 0) {
  throw new Error(
    `telemetry/reporting to outside hosts is disabled for shopgraph; unset ${reportingSet.join(', ')}`,
  );
}

// ---------------------------------------------------------------------------
// Supergraph: read from a file, validated, last good version kept.

const supergraphPath = process.env.SUPERGRAPH_PATH
  ? isAbsolute(process.env.SUPERGRAPH_PATH)
    ? process.env.SUPERGRAPH_PATH
    : resolve(process.cwd(), process.env.SUPERGRAPH_PATH)
  : fileURLToPath(new URL('../schema/supergraph.graphql', import.meta.url));

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

let lastGoodSupergraph: string | undefined;

function loadSupergraph(ctx: { log: { warn: (...args: any[]) => void } }): string {
  try {
    const sdl = readFileSync(supergraphPath, 'utf8');
    parse(sdl, { noLocation: true });
    if (!sdl.includes('join__Graph')) {
      throw new Error('not a supergraph (no join__Graph); compose it with router/compose.mjs');
    }
    lastGoodSupergraph = sdl;
    return sdl;
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    if (lastGoodSupergraph === undefined) {
      throw new Error(`cannot load supergraph ${supergraphPath}: ${reason}`);
    }
    ctx.log.warn({ path: supergraphPath, reason }, 'Ignoring unreadable supergraph; keeping the last good one');
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
// Errors.
//
// Subgraph GraphQL errors (message, path, extensions.code) reach the client
// unchanged; the gateway adds extensions.serviceName, and DOWNSTREAM_SERVICE_ERROR
// as the code when a subgraph error has none. Unexpected errors inside the
// gateway are masked ("Unexpected error." / INTERNAL_SERVER_ERROR), except a
// failed subgraph request, which keeps its stable code and the subgraph's name
// but not its address, query or response body (those go to the log).

const SUBGRAPH_FAILURES: Record<string, string> = {
  SUBREQUEST_HTTP_ERROR: 'is unavailable', // connection refused/reset
  RESPONSE_VALIDATION_FAILED: 'gave an invalid response', // e.g. HTTP 502 with an HTML body
  GATEWAY_TIMEOUT: 'timed out', // upstreamTimeout below
  TIMEOUT_ERROR: 'timed out',
};

function maskError(error: unknown, message: string, isDev?: boolean): Error {
  if (error instanceof GraphQLError) {
    const code = error.extensions?.code;
    const serviceName = error.extensions?.serviceName;
    if (typeof code === 'string' && code in SUBGRAPH_FAILURES) {
      const who = typeof serviceName === 'string' ? `Service "${serviceName}"` : 'A service';
      return new GraphQLError(`${who} ${SUBGRAPH_FAILURES[code]}.`, {
        nodes: error.nodes,
        source: error.source,
        positions: error.positions,
        path: error.path,
        extensions: { code, ...(typeof serviceName === 'string' ? { serviceName } : {}) },
      });
    }
  }
  return yogaMaskError(error, message, isDev);
}

// ---------------------------------------------------------------------------

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

export const gatewayConfig = defineConfig({
  host: HOST,
  port,

  supergraph: loadSupergraph,
  pollingInterval: 10_000, // the CLI's minimum

  // GraphiQL at GET /graphql (Accept: text/html). Yoga's GraphiQL is bundled (no
  // CDN) and, unlike the CLI's default Hive Laboratory, honours defaultQuery.
  graphqlEndpoint: '/graphql',
  renderGraphiQL: (options) =>
    withLogin(renderGraphiQL(options), {
      issuer,
      clientId: process.env.GRAPHIQL_CLIENT_ID ?? 'graphiql',
      scope: ['openid', ...scopesIn(lastGoodSupergraph ?? '')].join(' '),
    }),
  graphiql: {
    title: 'shopgraph GraphiQL',
    defaultQuery: DEFAULT_QUERY,
    shouldPersistHeaders: false,
  },
  landingPage: false,

  // Both answer 200 as soon as the server listens, which is after the supergraph
  // is loaded; neither checks the subgraphs.
  healthCheckEndpoint: '/healthcheck',
  readinessCheckEndpoint: '/readiness',

  propagateHeaders: {
    fromClientToSubgraphs({ request, context }) {
      const headers: Record<string, string> = {};
      for (const name of PROPAGATED_HEADERS) {
        const value = request.headers.get(name);
        if (value !== null) headers[name] = value;
      }
      // A signed-in caller who names no store gets the token's; a different one is refused
      // by the subgraphs.
      const tenant = (context as { jwt?: { payload?: { tenant?: unknown } } }).jwt?.payload?.tenant;
      if (headers['x-tenant-id'] === undefined && typeof tenant === 'string') headers['x-tenant-id'] = tenant;
      return headers;
    },
  },

  maskedErrors: { maskError },

  // In this order: verify the token, then count the request against its caller, then
  // check each field against the caller's scopes.
  plugins: () => [
    useAuthErrorCodes(),
    useJWT(jwtOptions({ issuer, audience, jwksUri })),
    useRateLimit({
      store: process.env.RATE_LIMIT_REDIS_URL ? new RedisBuckets(process.env.RATE_LIMIT_REDIS_URL) : new MemoryBuckets(),
      limit: rateLimit,
      windowMs: rateLimitWindowMs,
    }),
    useFieldAuthorization(),
  ],

  // Per subgraph request; subscriptions are long-lived and are not timed out.
  upstreamTimeout: ({ executionRequest }) =>
    executionRequest?.operationType === 'subscription' ? undefined : subgraphTimeoutMs,

  logging: (process.env.ROUTER_LOG_LEVEL as 'debug' | 'info' | 'warn' | 'error') || 'info',
});
