// The gateway's CLI opens its WebSocket server with `ws`'s default largest message (100 MiB)
// and offers no option for it, so a socket would carry what MAX_BODY_BYTES refuses over HTTP
// (a 30 MiB `subscribe` message was parsed and run). Every WebSocket server of this process
// takes the body limit as its largest message instead: a larger one closes the socket (1009,
// message too big) before anything parses it.

import { WebSocketServer } from 'ws';

export function limitWebSocketMessages(maxBytes: number): void {
  const handleUpgrade = WebSocketServer.prototype.handleUpgrade;
  WebSocketServer.prototype.handleUpgrade = function (this: WebSocketServer, ...args) {
    this.options.maxPayload = Math.min(this.options.maxPayload ?? maxBytes, maxBytes);
    return handleUpgrade.apply(this, args);
  };
}
