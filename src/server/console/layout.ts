import { html } from 'ghtml';
import type { TlpLevel } from '../../core/stix.js';
import type { Principal } from '../auth.js';
import { STYLE_PATH } from './style.js';

/**
 * The console's page shell and small shared pieces. Every page is built with ghtml's `html` tag,
 * which escapes each interpolated value (`&`, `<`, `>`, `"`, `'`, `=`) unless it is written `!${…}`;
 * `!${…}` is used only for markup this module or a page built itself with `html`, never for text
 * from a feed, a store object, a request or an error.
 */

/** What a page knows of its reader. */
export interface PageContext {
  principal: Principal;
  /** The CSRF token of the reader's session forms; absent when the key came in a header (no session to sign out of). */
  csrf?: string;
  /** The page's own path, for the navigation's `aria-current`. */
  path: string;
}

const NAV: { path: string; label: string; scope: 'admin' | 'search' | 'lookup' }[] = [
  { path: '/console/sources', label: 'Sources', scope: 'admin' },
  { path: '/console/sinks', label: 'Sinks', scope: 'admin' },
  { path: '/console/search', label: 'Search', scope: 'search' },
  { path: '/console/why', label: 'Why', scope: 'lookup' },
];

/** The pages a principal may open (its scopes decide). */
export function navFor(p: Principal): { path: string; label: string }[] {
  return NAV.filter((n) => p.scopes.has(n.scope));
}

/** A whole page: head with the served stylesheet, the navigation and sign-out, then `body` (markup). */
export function page(title: string, body: string, ctx?: PageContext): string {
  const nav = ctx ? navFor(ctx.principal) : [];
  const here = ctx?.path ?? '';
  const links = nav.map(
    (n) => html`<a href="${n.path}" aria-current="${here.startsWith(n.path) ? 'page' : 'false'}">${n.label}</a>`,
  );
  const who = ctx
    ? html`<span class="who"><span>key <strong>${ctx.principal.keyId}</strong> · up to <span class="tlp tlp-${ctx.principal.maxTlp}">TLP:${ctx.principal.maxTlp.toUpperCase()}</span></span>!${ctx.csrf ? html`<form method="post" action="/console/logout"><input type="hidden" name="csrf" value="${ctx.csrf}"><button class="secondary" type="submit">Sign out</button></form>` : ''}</span>`
    : '';
  return `<!doctype html>${html`<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><meta name="referrer" content="same-origin"><title>${title} · stixgate</title><link rel="stylesheet" href="${STYLE_PATH}"></head><body><header><span class="brand">stixgate console</span><nav>!${links}</nav>!${who}</header><main><h1>${title}</h1>!${body}</main></body></html>`}`;
}

/** A TLP badge. */
export function tlpBadge(tlp: TlpLevel | string | undefined): string {
  if (tlp === undefined) return html`<span class="muted">–</span>`;
  return html`<span class="tlp tlp-${tlp}">TLP:${String(tlp).toUpperCase()}</span>`;
}

/** An instant as its ISO text, or a dash. */
export function when(iso: string | undefined): string {
  return iso === undefined
    ? html`<span class="muted">–</span>`
    : html`<time datetime="${iso}">${iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z')}</time>`;
}

/** Two-column table of label → markup rows (the values already built with `html`). */
export function kvTable(rows: [string, string][]): string {
  return html`<table class="kv"><tbody>!${rows.map(([k, v]) => html`<tr><th>${k}</th><td>!${v}</td></tr>`)}</tbody></table>`;
}

/** The numbers of a run summary as `name n` pairs (nested objects and lists are left out: they may carry feed text). */
export function counts(summary: Record<string, unknown> | undefined): string {
  if (!summary) return html`<span class="muted">no run in this process</span>`;
  const pairs = Object.entries(summary).filter(([, v]) => typeof v === 'number');
  if (pairs.length === 0) return html`<span class="muted">–</span>`;
  return pairs.map(([k, v]) => html`<span class="muted">${k}</span> ${v}`).join(' · ');
}
