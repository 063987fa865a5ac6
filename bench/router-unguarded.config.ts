// The router without its guard (router/guard.ts: body and batch size, tokens, depth, aliases,
// directives, cost), for benchmarks only: the same configuration otherwise, so running it
// back to back with router/gateway.config.ts measures what the guard costs. Start it exactly
// like the router, with `-c bench/router-unguarded.config.ts`.

import { gatewayConfig as guarded } from '../router/gateway.config.ts';
import { isGuard } from '../router/guard.ts';

export const gatewayConfig = {
  ...guarded,
  plugins: (context: Parameters<NonNullable<typeof guarded.plugins>>[0]) =>
    (guarded.plugins?.(context) ?? []).filter((plugin) => !isGuard(plugin)),
};
