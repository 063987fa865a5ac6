// Errors the router gives, and what it keeps out of them and out of its log.
//
//   refusals (this module's `refusal`): a stable code, HTTP status, and for limits
//     `limit`/`found`; thrown before the body is parsed, or ended with `refuse` later
//   subgraph errors: message, path and code unchanged, plus serviceName (Hive adds it)
//   subgraph request failures (unreachable, timeout, not GraphQL): a fixed sentence, the code
//     and the subgraph's name; the subgraph's address, request and answer never leave the router
//   anything else unexpected: "Unexpected error." / INTERNAL_SERVER_ERROR

import { GraphQLError } from 'graphql';
import { createGraphQLError, maskError as yogaMaskError } from 'graphql-yoga';

interface RefusalOptions {
  status?: number;
  headers?: Record<string, string>;
  extensions?: Record<string, unknown>;
}

/**
 * An error the router answers a request with, at the HTTP status given whatever the client
 * accepts: `spec: false` keeps Yoga from downgrading it to 200 for `application/json`, as it
 * does for ordinary validation errors.
 */
export function refusal(code: string, message: string, options: RefusalOptions = {}): GraphQLError {
  const { status = 400, headers, extensions } = options;
  return createGraphQLError(message, {
    extensions: { code, ...extensions, http: { status, spec: false, ...(headers ? { headers } : {}) } },
  });
}

export function limitExceeded(code: string, message: string, limit: number, found?: number, status = 400) {
  return refusal(code, message, { status, extensions: { limit, ...(found === undefined ? {} : { found }) } });
}

const refused = new WeakSet<object>();

interface OnParamsPayload {
  context: object;
  params: { query?: unknown };
  setParams: (params: object) => void;
  setResult: (result: { errors: GraphQLError[] }) => void;
}

/**
 * Ends an operation from an `onParams` hook. A throw there would do for HTTP, but over a
 * WebSocket it closes the whole socket (graphql-ws treats it as an internal error); a result
 * reaches the client as that operation's error either way. Later checks skip it (`isRefused`).
 */
export function refuse(payload: OnParamsPayload, error: GraphQLError): void {
  refused.add(payload.context);
  payload.setResult({ errors: [error] });
  // Yoga checks the parameters after every plugin's hook and would answer a request that
  // sent only a hash with "Must provide query string" instead.
  if (payload.params.query == null) payload.setParams({ ...payload.params, query: '' });
}

export function isRefused(context: object): boolean {
  return refused.has(context);
}

// ---------------------------------------------------------------------------
// Masking.

const SUBGRAPH_FAILURES: Record<string, string> = {
  SUBREQUEST_HTTP_ERROR: 'is unavailable', // connection refused/reset
  RESPONSE_VALIDATION_FAILED: 'gave an invalid response', // e.g. HTTP 502 with an HTML body
  GATEWAY_TIMEOUT: 'timed out', // upstreamTimeout
  TIMEOUT_ERROR: 'timed out',
};

/**
 * The HTTP executor puts the whole subgraph request (its body: the variables, a shipping
 * address) and the subgraph's answer into a failed request's extensions, and for an answer
 * that is not GraphQL into its message too; Yoga logs the original of every error it masks.
 * Dropped here, in place, so neither the client nor the log line sees them; the log keeps the
 * code, the subgraph's name and the HTTP status.
 */
function forgetUpstreamExchange(error: GraphQLError, serviceName: unknown): void {
  const extensions = error.extensions as Record<string, unknown>;
  const response = extensions.response as { status?: unknown } | undefined;
  if (!('request' in extensions) && response === undefined) return;
  delete extensions.request;
  delete extensions.response;
  if (extensions.code === 'RESPONSE_VALIDATION_FAILED') {
    const status = typeof response?.status === 'number' ? ` (HTTP ${response.status})` : '';
    error.message = `Service "${String(serviceName)}" answered with something other than GraphQL${status}.`;
  }
}

export function maskError(error: unknown, message: string, isDev?: boolean): Error {
  if (error instanceof GraphQLError) {
    const { code, serviceName } = error.extensions ?? {};
    forgetUpstreamExchange(error, serviceName);
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
// Suggestions.

// graphql-js ends field, argument, type and enum value errors (variables included) with
// ` Did you mean "x"?`, ` Did you mean the enum value "X"?` or ` Did you mean to use an inline
// fragment on "T"?`; names cannot hold a "?", so the sentence ends at the first one.
const SUGGESTION = /\s*Did you mean [^?]*\?/g;

function withoutSuggestion(error: GraphQLError): GraphQLError {
  if (!error.message.includes('Did you mean')) return error;
  return createGraphQLError(error.message.replace(SUGGESTION, ''), {
    nodes: error.nodes,
    source: error.source,
    positions: error.positions,
    path: error.path,
    originalError: error.originalError ?? undefined,
    extensions: error.extensions,
  });
}

type Result = { errors?: readonly GraphQLError[] } & Record<string, unknown>;

function stripped(result: Result): Result {
  return result.errors?.length ? { ...result, errors: result.errors.map(withoutSuggestion) } : result;
}

async function* strippedStream(results: AsyncIterable<Result>): AsyncIterable<Result> {
  for await (const result of results) yield stripped(result);
}

/** Production: no error names a field, type or value the caller did not write. Runs on every
 * result, over HTTP and WebSocket, including validation and variable errors. */
export function useNoSuggestions() {
  return {
    onExecutionResult({ result, setResult }: { result: any; setResult: (result: any) => void }) {
      if (result == null || typeof result !== 'object') return;
      if (Symbol.asyncIterator in result) {
        setResult(strippedStream(result as AsyncIterable<Result>));
      } else if (Array.isArray(result)) {
        setResult(result.map(stripped));
      } else {
        setResult(stripped(result as Result));
      }
    },
  };
}
