// "Sign in" for the router's GraphiQL: the authorization-code flow with PKCE (S256) against
// the OIDC provider, as a public client. The access token lives in this tab's
// sessionStorage and is added to GraphiQL's requests unless the Headers pane sets its own
// Authorization header.

export interface LoginOptions {
  issuer: string;
  clientId: string;
  scope: string;
}

const SCRIPT = (options: LoginOptions) => `
<script>
(() => {
  const cfg = ${JSON.stringify(options)};
  const here = location.origin + location.pathname;
  const store = sessionStorage;
  const b64url = (bytes) => btoa(String.fromCharCode(...new Uint8Array(bytes)))
    .replace(/\\+/g, '-').replace(/\\//g, '_').replace(/=+$/, '');
  const random = () => b64url(crypto.getRandomValues(new Uint8Array(32)));
  const claims = (token) => JSON.parse(atob(token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/')));

  async function signIn() {
    const verifier = random(), state = random();
    store.setItem('shopgraph.pkce', JSON.stringify({ verifier, state }));
    const challenge = b64url(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier)));
    const url = new URL(cfg.issuer + '/authorize');
    for (const [k, v] of Object.entries({ response_type: 'code', client_id: cfg.clientId, redirect_uri: here,
      scope: cfg.scope, state, code_challenge: challenge, code_challenge_method: 'S256' })) url.searchParams.set(k, v);
    location.assign(url);
  }

  async function finishSignIn(params) {
    const pending = JSON.parse(store.getItem('shopgraph.pkce') || 'null');
    store.removeItem('shopgraph.pkce');
    history.replaceState(null, '', here);
    if (!pending || pending.state !== params.get('state')) return alert('Sign-in failed: state mismatch.');
    const response = await fetch(cfg.issuer + '/token', { method: 'POST', body: new URLSearchParams({
      grant_type: 'authorization_code', code: params.get('code'), redirect_uri: here,
      client_id: cfg.clientId, code_verifier: pending.verifier }) });
    const body = await response.json();
    if (!response.ok) return alert('Sign-in failed: ' + (body.error_description || body.error));
    store.setItem('shopgraph.token', body.access_token);
  }

  const nativeFetch = window.fetch.bind(window);
  window.fetch = (input, init = {}) => {
    const token = store.getItem('shopgraph.token');
    const url = typeof input === 'string' ? input : input.url;
    if (token && new URL(url, location.href).pathname === location.pathname) {
      const headers = new Headers(init.headers || (typeof input === 'string' ? undefined : input.headers));
      if (!headers.has('authorization')) headers.set('authorization', 'Bearer ' + token);
      init = { ...init, headers };
    }
    return nativeFetch(input, init);
  };

  function render() {
    const bar = document.getElementById('shopgraph-login') || document.body.appendChild(document.createElement('div'));
    bar.id = 'shopgraph-login';
    bar.style.cssText = 'position:fixed;top:6px;right:12px;z-index:10;font:13px system-ui;display:flex;gap:8px;align-items:center';
    bar.replaceChildren();
    const token = store.getItem('shopgraph.token');
    const button = document.createElement('button');
    if (token) {
      const c = claims(token);
      const who = document.createElement('span');
      who.textContent = c.sub + ' @ ' + (c.tenant || '-') + ' (' + c.scope + ')';
      bar.append(who);
      button.textContent = 'Sign out';
      button.onclick = () => { store.removeItem('shopgraph.token'); render(); };
    } else {
      button.textContent = 'Sign in';
      button.onclick = signIn;
    }
    bar.append(button);
  }

  const params = new URLSearchParams(location.search);
  (params.has('code') ? finishSignIn(params) : Promise.resolve()).finally(() =>
    document.readyState === 'loading' ? addEventListener('DOMContentLoaded', render) : render());
})();
</script>`;

/** GraphiQL's page with the sign-in bar added. */
export function withLogin(page: string, options: LoginOptions): string {
  return page.replace(/<head>/i, (head) => `${head}${SCRIPT(options)}`);
}
