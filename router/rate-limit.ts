// Per-caller rate limiting for the router: a leaky bucket kept as GCRA (the "virtual
// scheduling" form), so a caller may burst up to `limit` requests and then gets one more
// every `windowMs / limit`. Keyed by the verified token's tenant and subject, or by the
// client address for anonymous callers.
//
// One router keeps its buckets in memory. Several routers share them in Redis, where one
// Lua script reads and moves the bucket atomically on the server's own clock, so the limit
// holds however requests spread over the instances.

import { Redis } from 'ioredis';
import { refusal, refuse } from './errors.ts';

export interface Decision {
  allowed: boolean;
  /** Milliseconds until the next request would be allowed; 0 when allowed. */
  retryAfterMs: number;
}

export interface BucketStore {
  take(key: string, limit: number, windowMs: number): Promise<Decision>;
}

/** One bucket per key in this process; keys idle for a whole window are swept. */
export class MemoryBuckets implements BucketStore {
  private readonly tat = new Map<string, number>();
  private sweptAt = 0;

  constructor(private readonly now: () => number = Date.now) {}

  async take(key: string, limit: number, windowMs: number): Promise<Decision> {
    const now = this.now();
    this.sweep(now, windowMs);
    const interval = windowMs / limit;
    const tat = Math.max(this.tat.get(key) ?? now, now);
    const allowAt = tat - (limit - 1) * interval;
    if (now < allowAt) return { allowed: false, retryAfterMs: allowAt - now };
    this.tat.set(key, tat + interval);
    return { allowed: true, retryAfterMs: 0 };
  }

  private sweep(now: number, windowMs: number): void {
    if (now - this.sweptAt < windowMs) return;
    this.sweptAt = now;
    for (const [key, tat] of this.tat) if (tat <= now) this.tat.delete(key);
  }
}

// KEYS[1] bucket; ARGV[1] interval ms; ARGV[2] limit. Returns {allowed, retry after ms}.
const GCRA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local interval = tonumber(ARGV[1])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local allow_at = tat - (tonumber(ARGV[2]) - 1) * interval
if now < allow_at then return {0, math.ceil(allow_at - now)} end
local next_tat = tat + interval
redis.call('SET', KEYS[1], tostring(next_tat), 'PX', math.max(1, math.ceil(next_tat - now)))
return {1, 0}
`;

/** Buckets shared by every router pointed at the same Redis. */
export class RedisBuckets implements BucketStore {
  private readonly redis: Redis;

  constructor(url: string) {
    // Fail fast rather than queue: a request must not hang while Redis is away.
    this.redis = new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
    this.redis.on('error', () => undefined); // reported per request below; reconnects on its own
    this.redis.defineCommand('gcraTake', { numberOfKeys: 1, lua: GCRA });
  }

  async take(key: string, limit: number, windowMs: number): Promise<Decision> {
    const [allowed, retryAfterMs] = (await (this.redis as any).gcraTake(
      `shopgraph:ratelimit:${key}`,
      windowMs / limit,
      limit,
    )) as [number, number];
    return { allowed: allowed === 1, retryAfterMs };
  }
}

export interface RateLimitOptions {
  store: BucketStore;
  limit: number;
  windowMs: number;
}

/** Whom a request counts against: the verified token's tenant and subject, else the address. */
function callerKey(context: Record<string, any>): string {
  const claims = context.jwt?.payload;
  if (claims?.sub) return `user:${claims.tenant ?? ''}:${claims.sub}`;
  // The socket's peer, never a header a client could set to spend someone else's bucket.
  const address = context.req?.socket?.remoteAddress ?? 'unknown';
  return `ip:${address}`;
}

/**
 * Checked for each operation as soon as its parameters are read: after the JWT plugin has
 * verified the token (a forged token cannot spend someone else's bucket), and before the
 * document is looked up, parsed, measured or validated, so that operations refused by those
 * checks count too (each costs the router some work) and nothing reaches a subgraph past it.
 */
export function useRateLimit(options: RateLimitOptions) {
  return {
    async onParams(payload: any) {
      const { context } = payload;
      let decision: Decision;
      try {
        decision = await options.store.take(callerKey(context), options.limit, options.windowMs);
      } catch {
        // The limiter's store is down: serve rather than refuse everyone.
        context.log?.warn?.('rate limit store unavailable; request not counted');
        return;
      }
      if (!decision.allowed) {
        const retryAfter = Math.max(1, Math.ceil(decision.retryAfterMs / 1000));
        refuse(
          payload,
          refusal('RATE_LIMITED', `Too many requests; retry in ${retryAfter} s.`, {
            status: 429,
            headers: { 'Retry-After': String(retryAfter) },
            extensions: { retryAfterSeconds: retryAfter },
          }),
        );
      }
    },
  };
}
