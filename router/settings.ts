// The router's settings, read once from the environment (documented in gateway.config.ts and
// README.md). Every problem is collected and reported together, so an operator fixes a
// production configuration in one go; the gateway CLI then exits non-zero with the message.

import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const DEVELOPMENT_ISSUER = 'http://127.0.0.1:4010';
export const DEVELOPMENT_HMAC_SECRET = 'shopgraph-router-development-secret';
const DEVELOPMENT_CORS_ORIGINS = ['http://127.0.0.1:3000', 'http://localhost:3000'];
const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;

export type LogLevel = (typeof LOG_LEVELS)[number];

/** What one operation may ask for; the same defaults in development and production. */
export interface Limits {
  maxDepth: number;
  maxFields: number;
  maxAliases: number;
  maxDirectives: number;
  maxTokens: number;
  maxCost: number;
  maxBodyBytes: number;
  maxBatch: number;
}

export interface Settings {
  production: boolean;
  host: string;
  port: number;
  supergraphPath: string;
  subgraphTimeoutMs: number;
  logLevel: LogLevel;
  issuer: string;
  audience: string;
  jwksUri: string;
  graphiqlClientId: string;
  rateLimit: number;
  rateLimitWindowMs: number;
  rateLimitRedisUrl: string | undefined;
  limits: Limits;
  hmacSecret: string;
  corsOrigins: string[];
  trustedDocumentsDir: string;
  apqRedisUrl: string | undefined;
  /** OAuth client ids (the partners) that may send operations not registered ahead of time. */
  adhocClients: Set<string>;
}

// The CLI's --host/--port flags and HOST/PORT variables override the config file, and its
// HIVE_*/APOLLO_*/OPENTELEMETRY variables turn on reporting to outside hosts.
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

function cliFlag(argv: string[], names: string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    for (const name of names) {
      if (argv[i] === name) return argv[i + 1];
      if (argv[i].startsWith(`${name}=`)) return argv[i].slice(name.length + 1);
    }
  }
  return undefined;
}

function list(raw: string | undefined): string[] {
  return (raw ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
}

function pathFrom(raw: string | undefined, fallbackFromThisFile: string): string {
  if (!raw) return fileURLToPath(new URL(fallbackFromThisFile, import.meta.url));
  return isAbsolute(raw) ? raw : resolve(process.cwd(), raw);
}

export function readSettings(env: NodeJS.ProcessEnv = process.env, argv: string[] = process.argv): Settings {
  const problems: string[] = [];

  function int(name: string, fallback: number, min: number, max: number): number {
    const raw = env[name] ?? String(fallback);
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min || value > max) {
      problems.push(`${name} must be an integer in [${min}, ${max}], got "${raw}"`);
      return fallback;
    }
    return value;
  }

  const environment = env.ENVIRONMENT ?? 'development';
  if (environment !== 'development' && environment !== 'production') {
    problems.push(`ENVIRONMENT must be development or production, got "${environment}"`);
  }
  const production = environment === 'production';

  // 127.0.0.1 unless ROUTER_HOST says otherwise (a container publishing its port sets 0.0.0.0).
  const host = env.ROUTER_HOST ?? '127.0.0.1';
  const port = int('ROUTER_PORT', 4000, 1, 65535);
  const cliHost = cliFlag(argv, ['--host', '-h']) ?? env.HOST;
  if (cliHost !== undefined && cliHost !== host) {
    problems.push(`the router only listens on ${host}; unset HOST / drop --host (got "${cliHost}")`);
  }
  const cliPort = cliFlag(argv, ['--port', '-p']) ?? env.PORT;
  if (cliPort !== undefined && Number(cliPort) !== port) {
    problems.push(`PORT/--port (${cliPort}) would override ROUTER_PORT (${port}); set ROUTER_PORT only`);
  }
  const reporting = REPORTING_VARS.filter((name) => env[name]);
  if (reporting.length > 0) {
    problems.push(`telemetry/reporting to outside hosts is disabled for shopgraph; unset ${reporting.join(', ')}`);
  }

  const logLevel = (env.ROUTER_LOG_LEVEL || 'info') as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) {
    problems.push(`ROUTER_LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got "${logLevel}"`);
  } else if (production && logLevel === 'debug') {
    // The gateway's debug lines carry subgraph request bodies and signatures.
    problems.push('ROUTER_LOG_LEVEL=debug logs request bodies; production runs at info or above');
  }

  const issuer = env.OIDC_ISSUER ?? DEVELOPMENT_ISSUER;
  if (production && (!env.OIDC_ISSUER || issuer === DEVELOPMENT_ISSUER)) {
    problems.push(
      `OIDC_ISSUER must name the production identity provider, not the development one (${DEVELOPMENT_ISSUER})`,
    );
  }
  const hmacSecret = env.ROUTER_HMAC_SECRET ?? DEVELOPMENT_HMAC_SECRET;
  if (production && (!env.ROUTER_HMAC_SECRET || hmacSecret === DEVELOPMENT_HMAC_SECRET)) {
    problems.push('ROUTER_HMAC_SECRET must be set to a secret shared with the subgraphs, not the development value');
  }

  const settings: Settings = {
    production,
    host,
    port,
    supergraphPath: pathFrom(env.SUPERGRAPH_PATH, '../schema/supergraph.graphql'),
    subgraphTimeoutMs: int('ROUTER_SUBGRAPH_TIMEOUT_MS', 30_000, 1, 3_600_000),
    logLevel,
    issuer,
    audience: env.OIDC_AUDIENCE ?? 'shopgraph',
    jwksUri: env.OIDC_JWKS_URL ?? `${issuer}/.well-known/jwks.json`,
    graphiqlClientId: env.GRAPHIQL_CLIENT_ID ?? 'graphiql',
    rateLimit: int('RATE_LIMIT', 100, 1, 1_000_000),
    rateLimitWindowMs: int('RATE_LIMIT_WINDOW_S', 60, 1, 86_400) * 1000,
    rateLimitRedisUrl: env.RATE_LIMIT_REDIS_URL || undefined,
    limits: {
      maxDepth: int('MAX_DEPTH', 10, 1, 1_000),
      maxFields: int('MAX_FIELDS', 200, 1, 100_000),
      maxAliases: int('MAX_ALIASES', 30, 0, 100_000),
      maxDirectives: int('MAX_DIRECTIVES', 20, 0, 100_000),
      maxTokens: int('MAX_TOKENS', 2_000, 1, 1_000_000),
      maxCost: int('MAX_COST', 10_000, 1, 1_000_000_000),
      maxBodyBytes: int('MAX_BODY_BYTES', 131_072, 1_024, 104_857_600),
      maxBatch: int('MAX_BATCH', 10, 1, 1_000),
    },
    hmacSecret,
    corsOrigins: env.CORS_ORIGINS !== undefined ? list(env.CORS_ORIGINS) : production ? [] : DEVELOPMENT_CORS_ORIGINS,
    trustedDocumentsDir: pathFrom(env.TRUSTED_DOCUMENTS_DIR, '../schema/trusted-documents'),
    apqRedisUrl: env.APQ_REDIS_URL || undefined,
    adhocClients: new Set(list(env.ADHOC_CLIENTS)),
  };

  if (problems.length > 0) {
    const mode = production ? 'production' : 'development';
    throw new Error(`the router refuses to start (${mode}):\n  - ${problems.join('\n  - ')}`);
  }
  return settings;
}
