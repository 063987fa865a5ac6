// Subscriptions through the router: what a subgraph socket is told about the caller, and how a
// subscription that never starts reaches the client.
//
// A subgraph refuses a subscription (a bad cursor, too many subscriptions, a missing scope)
// with graphql-transport-ws's `error` message, which the gateway's WebSocket executor throws
// as a bare array and the gateway would mask as "Unexpected error." Here it becomes the
// result it is: those errors, with their codes, and no data. A subgraph socket that closes
// under a subscription (a restart) ends it with SERVICE_UNAVAILABLE, and a client too slow to
// take its events with SLOW_CONSUMER (`relayed`). The gateway's field
// authorization likewise leaves a refused subscription field as `{data: null}` beside its
// error plus an "Unexpected error." from running nothing: a subscription that did not start
// answers with its coded errors only; so does one its subgraph ends (its token expired, it
// fell too far behind). A result without data ends an operation, which websocket-server.ts
// sends as an `error` message.

import { GraphQLError } from 'graphql';
import { createGraphQLError } from 'graphql-yoga';

/** Where a subscription keeps the caller's headers for the subgraph socket's connection_init
 * (gateway.config.ts interpolates them into `connectionParams`). */
export const SUBGRAPH_CALLER = 'subgraphCaller';

type Headers = Record<string, string>;

export function useSubgraphSocketCaller(callerHeaders: (request: Request, context: Record<string, any>) => Headers) {
  return {
    onSubscribe({ args }: { args: { contextValue: Record<string, any> } }) {
      const ctx = args.contextValue;
      const headers = callerHeaders(ctx.request, ctx);
      ctx[SUBGRAPH_CALLER] = { authorization: headers.authorization, tenant: headers['x-tenant-id'] };
    },
  };
}

interface FormattedError {
  message: string;
  path?: readonly (string | number)[];
  extensions?: Record<string, unknown>;
}

function isFormattedErrors(value: unknown): value is FormattedError[] {
  return Array.isArray(value) && value.every((item) => typeof item?.message === 'string');
}

/** Results a subscription may have waiting for a slow client before it is ended. */
export const MAX_PENDING_RESULTS = 1000;

function ended(subgraph: string, code: string, message: string, extensions: Record<string, unknown> = {}) {
  return { errors: [createGraphQLError(message, { extensions: { code, serviceName: subgraph, ...extensions } })] };
}

function cursorOf(result: any): unknown {
  const root = result?.data && Object.values(result.data)[0];
  return root && typeof root === 'object' ? (root as { cursor?: unknown }).cursor : undefined;
}

/**
 * One subgraph subscription as the client takes it. The subgraph's results are read as they
 * come into a queue the client drains at its own pace; past MAX_PENDING_RESULTS the client
 * is too slow (an SSE reader that stopped reading, say): the queue is dropped and the
 * subscription ends with SLOW_CONSUMER and the cursor of the last event it was given, so no
 * client grows the router's memory. How the subgraph ended it becomes a result with codes
 * (see the top). An iterator object rather than a generator: a generator waiting for the
 * next event could not be returned until one came, and a quiet stream would keep its
 * subgraph subscription (and the caller's allowance) after the client left.
 */
function relayed(stream: AsyncIterable<unknown>, subgraph: string): AsyncIterableIterator<unknown> {
  const upstream = stream[Symbol.asyncIterator]();
  const pending: unknown[] = [];
  let finished = false; // the subgraph's stream ended, or was ended for being too far ahead
  let ending: unknown; // why, when not a plain end
  let closed = false; // nothing more goes to the client
  let lastCursor: unknown;
  let wake: (() => void) | undefined;
  const woken = () => {
    wake?.();
    wake = undefined;
  };
  void (async () => {
    try {
      while (!closed) {
        const { value, done } = await upstream.next();
        if (done || closed) break;
        if (pending.length >= MAX_PENDING_RESULTS) {
          pending.length = 0;
          ending = SLOW;
          await upstream.return?.();
          break;
        }
        pending.push(value);
        woken();
      }
    } catch (thrown) {
      ending = thrown ?? new Error('closed');
    }
    finished = true;
    woken();
  })();
  const last = (): unknown => {
    if (ending === SLOW) {
      return ended(subgraph, 'SLOW_CONSUMER', 'This subscription fell too far behind; resume from its last cursor.', {
        cursor: lastCursor ?? null,
      });
    }
    if (isFormattedErrors(ending)) {
      return {
        errors: ending.map((error) =>
          createGraphQLError(error.message, {
            path: error.path,
            extensions: { ...error.extensions, serviceName: subgraph },
          }),
        ),
      };
    }
    // The socket closed under it: the subgraph restarted or cannot be reached.
    return ended(subgraph, 'SERVICE_UNAVAILABLE', `Service "${subgraph}" ended the subscription; subscribe again after the last cursor.`);
  };
  return {
    [Symbol.asyncIterator]() {
      return this;
    },
    async next(): Promise<IteratorResult<unknown>> {
      for (;;) {
        if (closed) return { done: true, value: undefined };
        if (pending.length > 0) {
          const value = pending.shift();
          lastCursor = cursorOf(value) ?? lastCursor;
          return { done: false, value };
        }
        if (finished) {
          closed = true;
          return ending === undefined ? { done: true, value: undefined } : { done: false, value: last() };
        }
        await new Promise<void>((resolve) => (wake = resolve));
      }
    },
    async return(): Promise<IteratorResult<unknown>> {
      if (!closed) {
        closed = true;
        woken();
        if (!finished) await upstream.return?.();
      }
      return { done: true, value: undefined };
    },
  };
}

const SLOW = Symbol('slow');

export function useSubgraphSubscriptionRefusals() {
  return {
    onSubgraphExecute({ executor, setExecutor, subgraphName }: any) {
      setExecutor((request: any) => {
        const result = executor(request);
        const wrap = (value: any) =>
          value && typeof value[Symbol.asyncIterator] === 'function' ? relayed(value, subgraphName) : value;
        return result && typeof result.then === 'function' ? result.then(wrap) : wrap(result);
      });
    },
  };
}

type Result = { data?: unknown; errors?: readonly GraphQLError[] };

function coded(error: GraphQLError): boolean {
  return typeof error.extensions?.code === 'string' && error.extensions.code !== 'INTERNAL_SERVER_ERROR';
}

/** A subscription's result with errors and no data ends it: the subgraph refused it or ended
 * it (its token expired, it fell too far behind). An iterator object, for the reason given at
 * `relayed`. */
function endedByFailure(stream: AsyncIterable<Result>): AsyncIterableIterator<Result> {
  const upstream = stream[Symbol.asyncIterator]();
  let over = false;
  return {
    [Symbol.asyncIterator]() {
      return this;
    },
    async next(): Promise<IteratorResult<Result>> {
      if (over) return { done: true, value: undefined };
      const step = await upstream.next();
      if (step.done || over) return { done: true, value: undefined };
      const result = step.value;
      if (result.data == null && result.errors?.length) {
        over = true;
        await upstream.return?.();
        return { done: false, value: { errors: result.errors } };
      }
      return step;
    },
    async return(): Promise<IteratorResult<Result>> {
      if (!over) {
        over = true;
        await upstream.return?.();
      }
      return { done: true, value: undefined };
    },
  };
}

/** A subscription refused by the gateway (one result and no stream) or refused or ended by its
 * subgraph (a result with no data) answers with its coded errors only, and ends. */
export function useSubscriptionRefusals() {
  return {
    onSubscribe() {
      return {
        onSubscribeResult({ result, setResult }: { result: any; setResult: (result: any) => void }) {
          if (!result) return;
          if (typeof result[Symbol.asyncIterator] === 'function') {
            setResult(endedByFailure(result));
            return;
          }
          const errors: readonly GraphQLError[] = result.errors ?? [];
          if (errors.length === 0) return;
          const meaningful = errors.filter(coded);
          setResult({ errors: meaningful.length > 0 ? meaningful : errors });
        },
      };
    },
  };
}
