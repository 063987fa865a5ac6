// CORS for the origins in CORS_ORIGINS only. Yoga's own CORS reflects any origin with
// credentials by default, treats an empty list as "every origin" and a list of one as that
// origin for every caller; this states the policy directly instead. No credentials: callers
// send bearer tokens, not cookies.

const PREFLIGHT_MAX_AGE_S = 600;

export function useCors(origins: string[]) {
  const allowed = new Set(origins);
  return {
    onRequest({ request, fetchAPI, endResponse }: any) {
      if (request.method === 'OPTIONS') {
        endResponse(new fetchAPI.Response(null, { status: 204, headers: { 'Content-Length': '0' } }));
      }
    },
    onResponse({ request, response }: { request: Request; response: Response }) {
      // The answer differs by origin, so a cache keeps one per origin.
      response.headers.append('Vary', 'Origin');
      const origin = request.headers.get('origin');
      if (origin === null || !allowed.has(origin)) return;
      response.headers.set('Access-Control-Allow-Origin', origin);
      if (request.method === 'OPTIONS') {
        response.headers.set('Access-Control-Allow-Methods', 'GET, POST');
        const asked = request.headers.get('access-control-request-headers');
        if (asked) response.headers.set('Access-Control-Allow-Headers', asked);
        response.headers.set('Access-Control-Max-Age', String(PREFLIGHT_MAX_AGE_S));
      }
    },
  };
}
