// Trusted documents and automatic persisted queries (APQ), the Apollo way:
// `extensions: {persistedQuery: {version: 1, sha256Hash}}`, by POST or by GET.
//
// A hash alone is looked up in every manifest (`<client>.json` under TRUSTED_DOCUMENTS_DIR,
// sha256 of each document's exact text -> the text), then in the APQ store (this process, or
// Redis shared by several routers); unknown: PERSISTED_QUERY_NOT_FOUND, and an APQ client
// sends the text with the hash. Operation text runs when it is registered (in a manifest or
// the store) or when the caller may send ad-hoc operations; with a hash that matches it is
// also stored. Who may send ad-hoc operations is decided after the JWT plugin has verified
// the token (over HTTP in `onRequestParse`, on a socket in auth.ts's check), so it comes from
// the verified `client_id` (or `azp`). A document is stored only once it has been parsed,
// validated and found within the limits, and only if it is short.
//
// A GET of a registered document by an anonymous caller that succeeds may be cached by a CDN
// for a minute (public catalog reads); everything else says nothing about caching.

import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { onWebSocket } from './auth.ts';
import { isRefused, refusal, refuse } from './errors.ts';

const SHA256_HEX = /^[0-9a-f]{64}$/;
const PUBLIC_MAX_AGE_S = 60;
// The store keeps the newest documents within this (in this process).
const MEMORY_STORE_CHARS = 16 * 1024 * 1024;
// A longer ad-hoc document runs but is not stored: its client sends its text each time.
const STORED_DOCUMENT_CHARS = 32 * 1024;
const REDIS_TTL_S = 30 * 24 * 3600;

export function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** Every manifest of the directory as one map; a missing directory has none. A manifest whose
 * keys are not the sha256 of their documents is a build error: the router refuses to start. */
export function loadManifests(dir: string): Map<string, string> {
  let names: string[];
  try {
    names = readdirSync(dir).filter((name) => name.endsWith('.json')).sort();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
    throw error;
  }
  const documents = new Map<string, string>();
  for (const name of names) {
    const path = join(dir, name);
    const manifest: unknown = JSON.parse(readFileSync(path, 'utf8'));
    if (typeof manifest !== 'object' || manifest === null || Array.isArray(manifest)) {
      throw new Error(`${path}: a manifest is a JSON object of sha256 -> document`);
    }
    for (const [hash, text] of Object.entries(manifest)) {
      if (typeof text !== 'string' || !SHA256_HEX.test(hash) || sha256(text) !== hash) {
        throw new Error(`${path}: "${hash}" is not the lowercase hex sha256 of its document`);
      }
      documents.set(hash, text);
    }
  }
  return documents;
}

export interface DocumentStore {
  get(hash: string): Promise<string | undefined>;
  set(hash: string, text: string): Promise<void>;
}

/** This process only; the least recently used documents go first past MEMORY_STORE_CHARS. */
export class MemoryDocumentStore implements DocumentStore {
  private readonly documents = new Map<string, string>();
  private chars = 0;

  async get(hash: string): Promise<string | undefined> {
    const text = this.documents.get(hash);
    if (text !== undefined) {
      this.documents.delete(hash);
      this.documents.set(hash, text);
    }
    return text;
  }

  async set(hash: string, text: string): Promise<void> {
    if (this.documents.has(hash)) return;
    this.documents.set(hash, text);
    this.chars += text.length;
    for (const [oldest, old] of this.documents) {
      if (this.chars <= MEMORY_STORE_CHARS) break;
      this.documents.delete(oldest);
      this.chars -= old.length;
    }
  }
}

/** Shared by every router pointed at the same Redis; a document not used for 30 days expires. */
export class RedisDocumentStore implements DocumentStore {
  private readonly redis: Redis;

  constructor(url: string) {
    // Fail fast rather than queue: a request must not hang while Redis is away.
    this.redis = new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
    this.redis.on('error', () => undefined); // reported per request; reconnects on its own
  }

  async get(hash: string): Promise<string | undefined> {
    return (await this.redis.getex(`shopgraph:apq:${hash}`, 'EX', REDIS_TTL_S)) ?? undefined;
  }

  async set(hash: string, text: string): Promise<void> {
    await this.redis.set(`shopgraph:apq:${hash}`, text, 'EX', REDIS_TTL_S);
  }
}

export interface TrustedDocumentsOptions {
  manifests: Map<string, string>;
  store: DocumentStore;
  /** Whether the (verified) caller of this context may send operation text not registered. */
  mayAdhoc: (context: Record<string, any>) => boolean;
}

/** Production: the partners' OAuth clients, by the verified token's `client_id` or `azp`. */
export function partnerClients(clients: Set<string>) {
  return (context: Record<string, any>): boolean => {
    const claims = context.jwt?.payload;
    const client = claims?.client_id ?? claims?.azp;
    return typeof client === 'string' && clients.has(client);
  };
}

function persistedHash(extensions: unknown): string | undefined {
  const persisted = (extensions as { persistedQuery?: { version?: unknown; sha256Hash?: unknown } } | undefined)
    ?.persistedQuery;
  if (persisted?.version !== 1 || typeof persisted.sha256Hash !== 'string') return undefined;
  return persisted.sha256Hash.toLowerCase();
}

// Apollo clients recognise the miss by this message and resend with the text; a CDN must not
// keep the miss.
const notFound = () =>
  refusal('PERSISTED_QUERY_NOT_FOUND', 'PersistedQueryNotFound', {
    status: 200,
    headers: { 'Cache-Control': 'private, no-cache, must-revalidate' },
  });

export function useTrustedDocuments(options: TrustedDocumentsOptions) {
  const { manifests, store, mayAdhoc } = options;
  const cacheable = new WeakSet<object>();
  // Documents to store once they have passed parsing, validation and the limits.
  const toStore = new WeakMap<object, { hash: string; text: string }>();

  async function stored(hash: string, log: { warn: (...args: unknown[]) => void } | undefined) {
    try {
      return await store.get(hash);
    } catch {
      log?.warn({ hash }, 'persisted document store unavailable');
      return undefined;
    }
  }

  return {
    async onParams(payload: any) {
      const { params, context, request, setParams } = payload;
      if (isRefused(context)) return;
      // Parameters of the wrong type are refused by Yoga's own check, after this hook.
      if (params.query != null && typeof params.query !== 'string') return;
      const hash = persistedHash(params.extensions);
      if (!params.query) {
        if (hash === undefined) return;
        const text = manifests.get(hash) ?? (await stored(hash, context.log));
        if (text === undefined) return refuse(payload, notFound());
        setParams({ ...params, query: text });
        // A socket's operations carry its (GET) upgrade request.
        if (request.method === 'GET' && !onWebSocket(context)) cacheable.add(context);
        return;
      }
      const adhoc = mayAdhoc(context);
      if (adhoc && hash === undefined) return; // nothing to check, nothing to store
      const textHash = sha256(params.query);
      if (hash !== undefined && hash !== textHash) {
        return refuse(
          payload,
          refusal(
            'PERSISTED_QUERY_HASH_MISMATCH',
            'The persisted query hash is not the sha256 of the query sent with it.',
          ),
        );
      }
      if (manifests.has(textHash)) return;
      if (adhoc) {
        if (params.query.length <= STORED_DOCUMENT_CHARS) toStore.set(context, { hash: textHash, text: params.query });
        return;
      }
      if ((await stored(textHash, context.log)) === undefined) {
        refuse(
          payload,
          refusal(
            'TRUSTED_DOCUMENT_REQUIRED',
            'This client may only run registered documents: send the persisted query hash of a registered operation.',
          ),
        );
      }
    },
    async onExecute({ args }: { args: { contextValue: any } }) {
      const document = toStore.get(args.contextValue);
      if (document === undefined) return;
      toStore.delete(args.contextValue);
      try {
        await store.set(document.hash, document.text);
      } catch {
        args.contextValue.log?.warn({ hash: document.hash }, 'persisted document store unavailable; document not stored');
      }
    },
    onExecutionResult({ result, context, setResult }: { result: any; context: any; setResult: (r: unknown) => void }) {
      if (!cacheable.has(context) || context.jwt) return;
      if (!result || result.errors?.length || Symbol.asyncIterator in result) return;
      setResult({
        ...result,
        extensions: {
          ...result.extensions,
          http: {
            headers: { 'Cache-Control': `public, max-age=${PUBLIC_MAX_AGE_S}`, Vary: 'Authorization, X-Tenant-Id' },
          },
        },
      });
    },
  };
}
