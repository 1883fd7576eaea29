import { html } from 'ghtml';
import { page } from './layout.js';

/**
 * The sign-in page: one password field for an API key (the key is sent once, in a same-origin
 * POST body, and exchanged for a session cookie; it is never put in a URL or a cookie).
 */
export function loginPage(o: { csrf: string; next: string; message?: string }): string {
  const body = html`<div class="login">!${o.message === undefined ? '' : html`<div class="error-box" role="alert">${o.message}</div>`}<form method="post" action="/console/login"><label for="key">API key</label><input id="key" name="key" type="password" autocomplete="current-password" required maxlength="512" autofocus><input type="hidden" name="csrf" value="${o.csrf}"><input type="hidden" name="next" value="${o.next}"><button type="submit">Sign in</button></form><p class="muted">Use a key with the <code>admin</code> scope (sources, sinks), the <code>search</code> scope (search, objects) or the <code>lookup</code> scope (why a value is or is not in each sink). What you see is what the key may see: its scopes and its TLP ceiling decide.</p></div>`;
  return page('Sign in', body);
}

/** A local console path to return to after signing in; anything else (another site, a scheme, `//host`, a `..` out of /console) is the console's home. */
export function safeNext(next: unknown): string {
  if (
    typeof next !== 'string' ||
    next.length > 2048 ||
    !next.startsWith('/') ||
    next.startsWith('//') ||
    next.includes('\\')
  )
    return '/console';
  let u: URL;
  try {
    u = new URL(next, 'http://console.invalid');
  } catch {
    return '/console';
  }
  if (u.host !== 'console.invalid' || !(u.pathname === '/console' || u.pathname.startsWith('/console/')))
    return '/console';
  return u.pathname + u.search;
}
