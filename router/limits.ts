// Limits every request meets before anything reaches a subgraph (the cost estimate is in
// cost.ts). Each plugin is part of the guard (guard.ts).
//
//   body      PAYLOAD_TOO_LARGE (413)  bytes of the body: Content-Length first, then counted
//                                      while it streams in (chunked bodies have no length)
//   batch     BATCH_TOO_LARGE          operations in one batched (JSON array) request
//   tokens    TOO_MANY_TOKENS          lexical tokens of the document, counted by a lexer pass
//                                      that stops at the limit, before the parser runs
//   fields    TOO_MANY_FIELDS          fields anywhere in the document (not expanded)
//   aliases   TOO_MANY_ALIASES         aliased fields anywhere in the document (not expanded)
//   directives TOO_MANY_DIRECTIVES     directive applications anywhere in the document
//   depth     QUERY_TOO_DEEP           fields on the longest path from the root, fragments
//                                      expanded where spread (each measured once); `{ a }` is
//                                      1; `__schema`/`__type` subtrees count 0
//
// Fields, aliases, directives and depth are checked before graphql-js validates the document
// (its overlapping-fields rule compares every pair of same-named fields: time quadratic in the
// fields, so the field limit is what bounds it), and Yoga caches the outcome with the
// validation result, so a persisted or repeated document is measured once.
//
// graphql-armor's max-aliases/max-directives count per operation with fragments expanded, and
// its max-tokens (like graphql-js's own `maxTokens`) counts inside the recursive-descent parser,
// which overflows the stack on a list literal ~2,000 deep before it reaches 2,000 tokens: hence
// these small rules.

import {
  type DocumentNode,
  type FragmentDefinitionNode,
  GraphQLError,
  Kind,
  Lexer,
  type SelectionSetNode,
  Source,
  TokenKind,
  parse,
  visit,
} from 'graphql';
import { isRefused, limitExceeded, refusal, refuse } from './errors.ts';
import { guard } from './guard.ts';
import type { Limits } from './settings.ts';

const CONTENT_LENGTH = /^\d+$/;

function bodyTooLarge(limit: number, found?: number) {
  const message =
    found === undefined
      ? `The request body exceeds the limit of ${limit} bytes.`
      : `The request body is ${found} bytes; the limit is ${limit}.`;
  // Connection: close: the rest of the body is never read, so the connection cannot be reused.
  return refusal('PAYLOAD_TOO_LARGE', message, {
    status: 413,
    headers: { Connection: 'close' },
    extensions: { limit, ...(found === undefined ? {} : { found }) },
  });
}

interface FetchAPI {
  Request: typeof Request;
  TransformStream: typeof TransformStream;
}

/** A request whose body stream errors with PAYLOAD_TOO_LARGE past `limit` bytes. */
function withCountedBody(request: Request, limit: number, fetchAPI: FetchAPI): Request {
  let read = 0;
  // A native body stream only pipes through the native TransformStream (as Yoga's own limit does).
  const Transform = request.body instanceof ReadableStream ? globalThis.TransformStream : fetchAPI.TransformStream;
  const counted = request.body!.pipeThrough(
    new Transform<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        read += chunk.byteLength;
        if (read > limit) controller.error(bodyTooLarge(limit));
        else controller.enqueue(chunk);
      },
    }),
  );
  return new fetchAPI.Request(request.url, {
    method: request.method,
    headers: request.headers,
    signal: request.signal,
    body: counted,
    duplex: 'half',
  } as RequestInit);
}

export function useBodyLimit(maxBytes: number) {
  return guard({
    onRequestParse({ request, requestParser, setRequestParser, fetchAPI }: any) {
      const length = request.headers.get('content-length');
      if (length !== null) {
        if (!CONTENT_LENGTH.test(length)) throw refusal('BAD_REQUEST', 'The Content-Length header is not a number.');
        if (Number(length) > maxBytes) throw bodyTooLarge(maxBytes, Number(length));
        // Node's HTTP parser reads exactly Content-Length bytes of body: nothing to count.
        return;
      }
      if (requestParser == null || request.body == null) return;
      setRequestParser((req: Request) => requestParser(withCountedBody(req, maxBytes, fetchAPI)));
    },
  });
}

export function useBatchLimit(maxBatch: number) {
  return guard({
    onRequestParse() {
      return {
        onRequestParseDone({ requestParserResult }: { requestParserResult: unknown }) {
          if (Array.isArray(requestParserResult) && requestParserResult.length > maxBatch) {
            const found = requestParserResult.length;
            throw limitExceeded(
              'BATCH_TOO_LARGE',
              `The batch holds ${found} operations; the limit is ${maxBatch}.`,
              maxBatch,
              found,
            );
          }
        },
      };
    },
  });
}

/** False once the document has more than `max` tokens; the lexer stops there. A lexical error
 * counts as within the limit: the parser reports it. */
export function tokensWithin(query: string, max: number): boolean {
  const lexer = new Lexer(new Source(query));
  try {
    for (let count = 0; lexer.advance().kind !== TokenKind.EOF; ) {
      if (++count > max) return false;
    }
  } catch (error) {
    if (!(error instanceof GraphQLError)) throw error;
  }
  return true;
}

export function countFields(document: DocumentNode): { fields: number; aliases: number; directives: number } {
  let fields = 0;
  let aliases = 0;
  let directives = 0;
  visit(document, {
    Field(node) {
      fields++;
      if (node.alias) aliases++;
    },
    Directive() {
      directives++;
    },
  });
  return { fields, aliases, directives };
}

/** The deepest operation of the document. */
export function documentDepth(document: DocumentNode): number {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  const measured = new Map<string, number>();

  function fragmentDepth(name: string): number {
    const known = measured.get(name);
    if (known !== undefined) return known;
    const fragment = fragments.get(name);
    // 0 while in progress: a fragment cycle (refused by validation) cannot loop here.
    measured.set(name, 0);
    const depth = fragment ? depthOf(fragment.selectionSet) : 0;
    measured.set(name, depth);
    return depth;
  }

  function depthOf(selectionSet: SelectionSetNode): number {
    let deepest = 0;
    for (const selection of selectionSet.selections) {
      let depth: number;
      if (selection.kind === Kind.FIELD) {
        const name = selection.name.value;
        if (name === '__schema' || name === '__type') continue;
        depth = 1 + (selection.selectionSet ? depthOf(selection.selectionSet) : 0);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        depth = depthOf(selection.selectionSet);
      } else {
        depth = fragmentDepth(selection.name.value);
      }
      if (depth > deepest) deepest = depth;
    }
    return deepest;
  }

  let deepest = 0;
  for (const definition of document.definitions) {
    if (definition.kind === Kind.OPERATION_DEFINITION) deepest = Math.max(deepest, depthOf(definition.selectionSet));
  }
  return deepest;
}

function documentLimitErrors(document: DocumentNode, limits: Limits): GraphQLError[] {
  const { fields, aliases, directives } = countFields(document);
  const measured: [code: string, found: number, limit: number, what: string][] = [
    ['TOO_MANY_FIELDS', fields, limits.maxFields, 'fields'],
    ['TOO_MANY_ALIASES', aliases, limits.maxAliases, 'aliases'],
    ['TOO_MANY_DIRECTIVES', directives, limits.maxDirectives, 'directives'],
    ['QUERY_TOO_DEEP', documentDepth(document), limits.maxDepth, 'levels of nested fields'],
  ];
  return measured
    .filter(([, found, limit]) => found > limit)
    .map(([code, found, limit, what]) =>
      limitExceeded(code, `The document has ${found} ${what}; the limit is ${limit}.`, limit, found),
    );
}

type Validate = (schema: unknown, document: DocumentNode, ...rest: unknown[]) => readonly GraphQLError[];

// Documents already counted within the token limit (most requests repeat a few texts): at
// most this many, none longer than this, so the memory it takes stays small.
const COUNTED_DOCUMENTS = 1_000;
const COUNTED_DOCUMENT_CHARS = 16_384;

/** Tokens before parsing; fields, aliases, directives and depth before validating. */
export function useDocumentLimits(limits: Limits) {
  const within = new Set<string>();
  return guard({
    onParams(payload: any) {
      const { params, context } = payload;
      if (isRefused(context) || typeof params.query !== 'string' || within.has(params.query)) return;
      if (tokensWithin(params.query, limits.maxTokens)) {
        if (params.query.length > COUNTED_DOCUMENT_CHARS) return;
        within.add(params.query);
        if (within.size > COUNTED_DOCUMENTS) within.delete(within.values().next().value!);
      } else {
        refuse(
          payload,
          limitExceeded(
            'TOO_MANY_TOKENS',
            `The document has more than ${limits.maxTokens} tokens, the token limit.`,
            limits.maxTokens,
          ),
        );
      }
    },
    onParse({ setParseFn }: any) {
      setParseFn((source: string | Source, options: object) => {
        try {
          return parse(source, options);
        } catch (error) {
          // Only with MAX_TOKENS raised far above its default can a document nest deeply enough.
          if (error instanceof RangeError) {
            throw refusal('GRAPHQL_PARSE_FAILED', 'The document is nested too deeply to parse.');
          }
          throw error;
        }
      });
    },
    onValidate({ validateFn, setValidationFn }: { validateFn: Validate; setValidationFn: (fn: Validate) => void }) {
      setValidationFn((schema, document, ...rest) => {
        const errors = documentLimitErrors(document, limits);
        return errors.length > 0 ? errors : validateFn(schema, document, ...rest);
      });
    },
  });
}
