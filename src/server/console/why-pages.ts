import { html } from 'ghtml';
import type { DeliveriesAnswer, DeliveryEntry } from '../../delivery/why.js';
import { tlpBadge, when } from './layout.js';

/**
 * The "why" of a value: for every sink, the delivery ledger's state of the value there (present,
 * removed, withheld, rejected, pending, unknown), since when, the change that put it there and
 * why (the contributions behind it, score and threshold, the filter, list entry or the vendor's
 * message), as the key's TLP ceiling may see it: the answer of `GET /api/v1/deliveries`.
 * Vendor messages and list entries are remote text: escaped like the rest.
 */

const STATE_CLASS: Record<DeliveryEntry['state'], string> = {
  present: 'ok',
  removed: 'muted',
  withheld: 'warn',
  rejected: 'bad',
  pending: 'warn',
  unknown: 'muted',
};

function sourcesCell(e: Pick<DeliveryEntry, 'sources'>): string {
  if (e.sources.length === 0) return html`<span class="muted">–</span>`;
  return e.sources.map((s) => html`<span class="value">${s.source}</span> !${tlpBadge(s.tlp)}`).join('<br>');
}

function scoreCell(e: Pick<DeliveryEntry, 'score' | 'threshold'>): string {
  const score = e.score === null ? '–' : String(e.score);
  return e.threshold === null ? html`${score}` : html`${score} <span class="muted">(min ${e.threshold})</span>`;
}

function row(e: DeliveryEntry): string {
  const prev = e.previous
    ? html`<div class="muted">before the change: <span class="${STATE_CLASS[e.previous.state]}">${e.previous.state}</span>!${e.previous.reason ? html` (${e.previous.reason})` : ''} since !${when(e.previous.since ?? undefined)}</div>`
    : '';
  return html`<tr class="delivery"><td class="value">${e.sink}</td><td>${e.type}</td><td class="${STATE_CLASS[e.state]}">${e.state}</td><td>${e.reason ?? '–'}</td><td>!${when(e.since ?? undefined)}</td><td class="num">${e.seq ?? '–'}</td><td>!${sourcesCell(e)}</td><td class="num">!${scoreCell(e)}</td><td><div class="err">${e.detail ?? ''}</div>!${prev}</td></tr>`;
}

/** The ledger table of one value (or why there is none). */
export function deliveriesTable(a: DeliveriesAnswer): string {
  if (a.invalid !== undefined) return html`<div class="error-box" role="alert">${a.invalid}</div>`;
  if (a.deliveries.length === 0)
    return html`<p class="muted">No sink has a record of this value that this key may see.</p>`;
  return html`<table class="deliveries"><thead><tr><th>sink</th><th>as</th><th>state</th><th>reason</th><th>since</th><th class="num">change</th><th>sources (visible)</th><th class="num">score</th><th>detail</th></tr></thead><tbody>!${a.deliveries.map(row)}</tbody></table>`;
}

export function whyForm(value: string): string {
  return html`<form class="search" method="get" action="/console/why" role="search"><label>value<input name="value" value="${value}" placeholder="an IP, domain, URL or hash" required maxlength="2048"></label><button type="submit">Why?</button></form>`;
}

/** The why page: the form, then the value's detected type and its ledger table. */
export function whyBody(value: string, a: DeliveriesAnswer | undefined, notice?: string): string {
  if (a === undefined)
    return (
      whyForm(value) +
      (notice
        ? html`<p class="notice">${notice}</p>`
        : html`<p class="muted">Is a value in each sink, since when, and why (or why not)?</p>`)
    );
  return html`!${whyForm(value)}<p>Value <span class="value" id="why-value">${a.value}</span>!${a.type ? html` as <strong>${a.type}</strong>` : ''}: <a href="/console/search?value=${encodeURIComponent(a.value)}&amp;state=active,expired,revoked">objects holding it</a></p>!${deliveriesTable(a)}`;
}
