// What the gateway's WebSocket server does beyond its CLI's defaults, which offer no options
// for any of it; every WebSocket server of this process is patched as it accepts a socket.
//
// - The largest message is the body limit, not `ws`'s 100 MiB (a 30 MiB `subscribe` message
//   was parsed and run): a larger one closes the socket (1009) before anything parses it.
// - graphql-transport-ws to the letter: an operation refused before it runs (it does not
//   parse or validate, exceeds a limit, or its subscription is refused), or a subscription
//   ended by a failure (subscriptions.ts), is answered with an `error` message, which ends
//   it; the gateway answers every operation through Yoga and would send such errors as a
//   `next` followed by a `complete`. A result without `data` is exactly that: the GraphQL
//   spec leaves `data` out only when execution never started.
// - A client that stops reading: what the server sends waits in the socket's buffer, which
//   past MAX_BUFFERED_BYTES closes the socket (1013, try again later) instead of growing; the
//   client resumes its subscriptions from their last cursors.
// - Keep-alive: every KEEP_ALIVE_MS each socket gets a WebSocket ping; one that has not
//   answered the previous ping is gone (a dropped laptop, a dead NAT) and is ended, so its
//   subscriptions stop instead of buffering for ever.

import { WebSocket, WebSocketServer } from 'ws';

export const KEEP_ALIVE_MS = 15_000;
export const MAX_BUFFERED_BYTES = 8 * 1024 * 1024;

interface Message {
  id?: unknown;
  type?: unknown;
  payload?: { data?: unknown; errors?: unknown } | unknown;
}

function rewritten(message: Message, ended: Set<unknown>): Message | undefined {
  const { id, type } = message;
  if (type === 'complete' && ended.delete(id)) return undefined; // the `error` already ended it
  if (type !== 'next') return message;
  const payload = message.payload as { data?: unknown; errors?: unknown; hasNext?: unknown };
  if (payload && !('data' in payload) && !('hasNext' in payload) && Array.isArray(payload.errors)) {
    ended.add(id);
    return { id, type: 'error', payload: payload.errors };
  }
  return message;
}

function speakToTheLetter(socket: WebSocket): void {
  // Operations answered with an `error` whose `complete` from the server is still to come (and
  // is dropped). A client may reuse an id once it has its `error`: then it is a new operation.
  const ended = new Set<unknown>();
  socket.on('message', (raw) => {
    if (ended.size === 0) return;
    try {
      const message = JSON.parse(String(raw)) as Message;
      if (message.type === 'subscribe' || message.type === 'complete') ended.delete(message.id);
    } catch {
      // graphql-ws closes the socket for it
    }
  });
  const send = socket.send.bind(socket) as (data: unknown, ...rest: unknown[]) => void;
  socket.send = function (data: unknown, ...rest: unknown[]) {
    if (typeof data !== 'string' || !(data.includes('"type":"next"') || data.includes('"type":"complete"'))) {
      send(data, ...rest);
      return;
    }
    let message: Message;
    try {
      message = JSON.parse(data);
    } catch {
      return send(data, ...rest);
    }
    const out = rewritten(message, ended);
    if (out === undefined) {
      const callback = rest.find((arg) => typeof arg === 'function') as ((err?: Error) => void) | undefined;
      callback?.();
      return;
    }
    send(out === message ? data : JSON.stringify(out), ...rest);
    if (socket.bufferedAmount > MAX_BUFFERED_BYTES) socket.close(1013, 'Too slow: resume from your last cursor');
  } as typeof socket.send;
}

function keepAlive(socket: WebSocket): void {
  let answered = true;
  socket.on('pong', () => {
    answered = true;
  });
  const timer = setInterval(() => {
    if (!answered) {
      socket.terminate();
      return;
    }
    answered = false;
    socket.ping();
  }, KEEP_ALIVE_MS);
  timer.unref();
  socket.on('close', () => clearInterval(timer));
}

export function patchWebSocketServers(maxBytes: number): void {
  const handleUpgrade = WebSocketServer.prototype.handleUpgrade;
  WebSocketServer.prototype.handleUpgrade = function (this: WebSocketServer, request, socket, head, callback) {
    this.options.maxPayload = Math.min(this.options.maxPayload ?? maxBytes, maxBytes);
    return handleUpgrade.call(this, request, socket, head, (client, req) => {
      speakToTheLetter(client);
      keepAlive(client);
      callback(client, req);
    });
  };
}
