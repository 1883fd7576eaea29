import { html } from 'ghtml';
import type { ReconcileResult } from '../../delivery/reconcile.js';
import { tlpBadge } from './layout.js';

/** Entries of each kind a plan page lists at most (the counts cover all). */
export const PLAN_LIMIT = 50;

const KINDS = [
  ['missing', 'missing: the store says the product should hold it, the product does not'],
  ['stale', "stale: the product holds it with other fields than the store's"],
  ['extra', "extra: the product holds it as stixgate's, the store no longer does"],
  ['foreign', 'foreign: entries of another contributor, left alone'],
] as const;

/** The Plan and Reconcile buttons of a sink (POST forms with the session's CSRF token; none without a session). */
export function reconcileForms(sink: string, csrf: string | undefined): string {
  if (!csrf) return '';
  const form = (action: string, label: string, cls: string) =>
    html`<form class="inline" method="post" action="/console/sinks/${encodeURIComponent(sink)}/${action}"><input type="hidden" name="csrf" value="${csrf}"><button class="${cls}" type="submit" id="${action}-${sink}">${label}</button></form>`;
  return form('plan', 'Plan', 'secondary') + form('reconcile', 'Reconcile', 'secondary');
}

/** What an applied reconcile did (markup). */
function outcome(r: ReconcileResult): string {
  const p = r.repaired;
  if (!p) return '';
  const rows: [string, number][] = [
    ['written (missing and stale entries)', p.upserted],
    ['removed (extra entries)', p.removed],
    ['rejected by the product (dead-letter file)', p.rejected],
    ['changed in the store meanwhile, left for the next push', p.gone],
  ];
  return html`<h2>Reconcile outcome</h2><table class="kv" id="reconcile-outcome"><tbody>!${rows.map(([k, n]) => html`<tr><th>${k}</th><td class="num">${n}</td></tr>`)}</tbody></table>`;
}

/**
 * The plan of a sink's reconcile (`stixgate plan SINK`, `GET /api/v1/admin/sinks/:id/plan`), or
 * the outcome of an applied one (`stixgate reconcile SINK`): counts, what was repaired, then the
 * first entries of each kind that the key's ceiling may see. Labels are read back from the
 * product: remote text, escaped. `csrf` adds the Reconcile button (a session's forms).
 */
export function planBody(sink: string, r: ReconcileResult | undefined, csrf?: string): string {
  if (!r)
    return html`<p class="notice">The sink's job runs on another instance (its lease is held there): plan it there.</p>`;
  const counts = html`<table class="kv" id="plan-counts"><tbody><tr><th>read from the product</th><td>${r.remote}: ${r.read}</td></tr><tr><th>the store expects</th><td>${r.expected}</td></tr><tr><th>in sync</th><td>${r.counts.in_sync}</td></tr>!${KINDS.map(([k]) => html`<tr><th>${k}</th><td class="${k !== 'foreign' && r.counts[k] > 0 ? 'warn' : ''}">${r.counts[k]}</td></tr>`)}</tbody></table>`;
  const lists = KINDS.map(([k, label]) => {
    const items = r.items[k];
    if (r.counts[k] === 0) return '';
    const rows = items.map((i) => html`<tr><td class="value">${i.label}</td><td>!${tlpBadge(i.tlp)}</td></tr>`);
    const hidden = r.counts[k] - items.length;
    return html`<h2>${label}</h2><table class="plan-${k}"><thead><tr><th>entry</th><th>TLP</th></tr></thead><tbody>!${rows}</tbody></table>!${hidden > 0 ? html`<p class="muted">${hidden} more not listed (beyond ${PLAN_LIMIT}, or above this key's TLP ceiling).</p>` : ''}`;
  });
  const intro = r.applied
    ? html`<p class="notice" role="status" id="reconcile-done">Reconciled <span class="value">${sink}</span>: the counts below are what was found before the repair.</p>`
    : html`<p class="muted">What a reconcile of <span class="value">${sink}</span> would change; nothing was changed. <code>stixgate reconcile ${sink}</code> or the Reconcile button applies it.</p>`;
  return html`!${intro}!${outcome(r)}!${counts}!${lists}<p>!${reconcileForms(sink, csrf)} <a href="/console/sinks">← Sinks</a></p>`;
}
