// The guard: the plugins that bound the work one request can cause (body size, batch size,
// tokens, depth, aliases, directives, cost). Each is marked so a benchmark can measure the
// router without them (bench/router-unguarded.config.ts); nothing in the router turns them off.

const GUARD = Symbol.for('shopgraph.router.guard');

export function guard<P extends object>(plugin: P): P {
  return Object.assign(plugin, { [GUARD]: true });
}

export function isGuard(plugin: unknown): boolean {
  return typeof plugin === 'object' && plugin !== null && GUARD in plugin;
}
