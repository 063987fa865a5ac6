// The transport subscriptions take to the subgraphs: graphql-transport-ws, one socket per
// subgraph and caller (its `connectionParams`), as the gateway's own `ws` transport does, with
// two differences that transport offers no option for:
//
// - No reconnecting. graphql-ws would reconnect after a subgraph restart and subscribe again
//   with the operation as first sent, silently resuming from "now" and skipping whatever
//   happened in between. Here the subscription ends instead (subscriptions.ts gives it
//   SERVICE_UNAVAILABLE) and the client resumes after its last cursor: nothing is lost.
// - Keep-alive: a ping every KEEP_ALIVE_MS, and a socket whose pong does not come within
//   PONG_TIMEOUT_MS is closed, so a subgraph that vanished without closing its sockets (a host
//   gone) ends the subscriptions it held.

import { getInterpolatedHeadersFactory } from '@graphql-mesh/string-interpolation';
import { buildGraphQLWSExecutor } from '@graphql-tools/executor-graphql-ws';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

export const KEEP_ALIVE_MS = 12_000;
export const PONG_TIMEOUT_MS = 10_000;
const LAZY_CLOSE_MS = 3_000;

type Executor = ReturnType<typeof buildGraphQLWSExecutor>;

interface TransportEntry {
  location?: string;
  options?: { connectionParams?: Record<string, string> };
}

function socketUrl(location: string): string {
  return location.replace(/^http(s?):\/\//, 'ws$1://');
}

export const subgraphSockets = {
  getSubgraphExecutor({ transportEntry }: { transportEntry: TransportEntry }) {
    if (!transportEntry.location) throw new Error('a subgraph socket needs the subgraph location');
    const url = socketUrl(transportEntry.location);
    const params = getInterpolatedHeadersFactory(transportEntry.options?.connectionParams ?? {});
    const sockets = new Map<string, { executor: Executor; dispose: () => Promise<void> }>();

    const executor = (request: any) => {
      const connectionParams = params({ env: process.env, root: request.rootValue, context: request.context, info: request.info });
      const key = JSON.stringify(connectionParams);
      let socket = sockets.get(key);
      if (!socket) {
        let open: WebSocket | undefined;
        let pongDue: ReturnType<typeof setTimeout> | undefined;
        const client = createClient({
          url,
          webSocketImpl: WebSocket,
          connectionParams,
          lazy: true,
          lazyCloseTimeout: LAZY_CLOSE_MS,
          retryAttempts: 0,
          keepAlive: KEEP_ALIVE_MS,
          on: {
            connected: (opened) => {
              open = opened as WebSocket;
            },
            ping: (received) => {
              if (received) return;
              pongDue = setTimeout(() => open?.close(4408, 'Pong timeout'), PONG_TIMEOUT_MS);
              pongDue.unref();
            },
            pong: (received) => {
              if (received) clearTimeout(pongDue);
            },
            closed: () => {
              clearTimeout(pongDue);
              sockets.delete(key);
            },
          },
        });
        socket = { executor: buildGraphQLWSExecutor(client), dispose: () => client.dispose() as Promise<void> };
        sockets.set(key, socket);
      }
      return socket.executor(request);
    };
    return Object.assign(executor, {
      [Symbol.asyncDispose]: async () => {
        await Promise.all([...sockets.values()].map((socket) => socket.dispose()));
      },
    });
  },
};
