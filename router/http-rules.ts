// What may arrive over which HTTP method and content type.
//
//   any mutation over GET                                  405 METHOD_NOT_ALLOWED
//   production: GET with operation text (not a persisted   405 METHOD_NOT_ALLOWED
//     document's hash)
//   production: POST without a JSON content type           415 UNSUPPORTED_MEDIA_TYPE
//     (form-encoded, text/plain, application/graphql): a browser sends those cross-site
//     without a preflight

import { type DocumentNode, getOperationAST } from 'graphql';
import { onWebSocket } from './auth.ts';
import { refusal } from './errors.ts';

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json$/;

function isJson(contentType: string | null): boolean {
  return contentType !== null && JSON_TYPE.test(contentType.split(';')[0].trim().toLowerCase());
}

const postOnly = (message: string) =>
  refusal('METHOD_NOT_ALLOWED', message, { status: 405, headers: { Allow: 'POST' } });

export function useHttpRules({ production }: { production: boolean }) {
  return {
    onRequestParse({ request, url }: { request: Request; url: URL }) {
      if (!production) return;
      if (request.method === 'GET' && url.searchParams.get('query')) {
        throw postOnly('GET carries registered documents only (a persisted query hash); send operation text by POST.');
      }
      if (request.method === 'POST' && !isJson(request.headers.get('content-type'))) {
        const message = 'Send GraphQL requests as JSON (Content-Type: application/json).';
        throw refusal('UNSUPPORTED_MEDIA_TYPE', message, { status: 415 });
      }
    },
    // Before Yoga's own check, which answers the same with code BAD_REQUEST.
    onParse({ context }: { context: { request?: Request; params?: { operationName?: string } } }) {
      // A socket's operations carry its (GET) upgrade request.
      if (context.request?.method !== 'GET' || onWebSocket(context)) return;
      return ({ result }: { result: DocumentNode | Error | null }) => {
        if (result === null || result instanceof Error) return;
        if (getOperationAST(result, context.params?.operationName)?.operation === 'mutation') {
          throw postOnly('Mutations are sent by POST.');
        }
      };
    },
  };
}
