import { html } from 'ghtml';
import type { StixObject } from '../../core/stix.js';
import { objectObservables } from '../../core/object-observables.js';
import { OBJECT_STATES, stateOf } from '../../search/filter.js';
import { TLP_LEVELS, TLP_MARKING_IDS } from '../../core/stix.js';
import type { Provenance } from '../provenance.js';
import { kvTable, tlpBadge, when } from './layout.js';

/**
 * The search page (the search API's filters as a form, its results as a table, its sealed cursor
 * as the next-page link) and the page of one object (the reader's view with its provenance). All
 * text shown here is feed text: names, descriptions, patterns, labels and values are escaped.
 */

export interface SearchForm {
  value?: string;
  type?: string;
  source?: string;
  label?: string;
  tlp?: string;
  min_score?: string;
  state?: string;
}

export const FORM_FIELDS = ['value', 'type', 'source', 'label', 'tlp', 'min_score', 'state'] as const;

function field(name: keyof SearchForm, label: string, q: SearchForm, placeholder = ''): string {
  return html`<label>${label}<input name="${name}" value="${q[name] ?? ''}" placeholder="${placeholder}"></label>`;
}

function select(name: keyof SearchForm, label: string, q: SearchForm, options: readonly string[]): string {
  const opts = ['', ...options].map(
    (o) => html`<option value="${o}" ${q[name] === o ? 'selected' : ''}>${o === '' ? 'any' : o}</option>`,
  );
  return html`<label>${label}<select name="${name}">!${opts}</select></label>`;
}

export function searchForm(q: SearchForm): string {
  return html`<form class="search" method="get" action="/console/search" role="search">!${field('value', 'value', q, 'an IP, domain, URL or hash')}!${field('type', 'STIX type', q, 'indicator')}!${field('source', 'source', q)}!${field('label', 'label', q)}!${select('tlp', 'TLP', q, TLP_LEVELS)}!${field('min_score', 'min score', q, '0-100')}!${select('state', 'state', q, OBJECT_STATES)}<button type="submit">Search</button></form>`;
}

/** The text that names an object: its observable values, else its name, else its pattern. */
export function nameOf(o: StixObject): string {
  const obs = objectObservables(o);
  if (obs.length > 0) return obs.map((x) => x.value).join(', ');
  if (typeof o.name === 'string') return o.name;
  if (typeof o.pattern === 'string') return o.pattern;
  return o.id;
}

function sourcesOf(o: StixObject): string[] {
  return Object.keys(o.x_stixgate?.sources ?? {}).sort();
}

/** The TLP a view was marked with (views carry exactly one TLP marking: the strictest visible contribution's). */
function tlpOf(o: StixObject): string | undefined {
  const refs = Array.isArray(o.object_marking_refs) ? o.object_marking_refs : [];
  return refs.map((r) => TLP_MARKING_IDS[r]).find((t) => t !== undefined);
}

export function resultsTable(objects: StixObject[], nextHref: string | undefined): string {
  if (objects.length === 0 && nextHref === undefined)
    return html`<p class="muted" id="no-results">Nothing matches in what this key may see.</p>`;
  const rows = objects.map((o) => {
    const score = o.x_stixgate?.score;
    return html`<tr><td>${o.type}</td><td class="value"><a href="/console/objects/${encodeURIComponent(o.id)}">${nameOf(o)}</a></td><td>!${tlpBadge(tlpOf(o))}</td><td class="num">${typeof score === 'number' ? score : '–'}</td><td>${sourcesOf(o).join(', ')}</td><td>${stateOf(o)}</td><td>!${when(typeof o.modified === 'string' ? o.modified : undefined)}</td></tr>`;
  });
  const more =
    nextHref === undefined
      ? ''
      : html`<p class="pager"><a href="${nextHref}" rel="next">Next page →</a> <span class="muted">(a page may hold fewer rows than asked and still have a next one)</span></p>`;
  return html`<table id="results"><thead><tr><th>type</th><th>value / name</th><th>TLP</th><th class="num">score</th><th>sources</th><th>state</th><th>modified</th></tr></thead><tbody>!${rows}</tbody></table>!${more}`;
}

export function errorBox(message: string): string {
  return html`<div class="error-box" role="alert">${message}</div>`;
}

/** One object as the reader sees it: summary, score and its history (markup), related names, the delivery ledger of its values (markup) and the full view as JSON. */
export function objectBody(
  view: StixObject,
  provenance: Provenance[],
  related: Record<string, string[]> | undefined,
  deliveries: string,
  history = '',
): string {
  const x = view.x_stixgate;
  const named: [string, string][] =
    typeof view.name === 'string' && view.name !== nameOf(view) ? [['name', html`${view.name}`]] : [];
  const summary: [string, string][] = [
    ['id', html`<span class="value">${view.id}</span>`],
    ['type', html`${view.type}`],
    ['value / name', html`<span class="value" id="object-name">${nameOf(view)}</span>`],
    ...named,
    ['state', html`${stateOf(view)}`],
    ['TLP (your view)', tlpBadge(tlpOf(view))],
  ];
  if (typeof view.description === 'string')
    summary.push(['description', html`<div id="object-description">${view.description}</div>`]);
  if (typeof view.pattern === 'string') summary.push(['pattern', html`<span class="value">${view.pattern}</span>`]);
  if (Array.isArray(view.labels) && view.labels.length) summary.push(['labels', html`${view.labels.join(', ')}`]);
  for (const k of ['valid_from', 'valid_until', 'created', 'modified'] as const) {
    const v = view[k];
    if (typeof v === 'string') summary.push([k, when(v)]);
  }
  const scoreRows: [string, string][] = [
    ['score (your view)', html`${typeof x?.score === 'number' ? x.score : '–'}`],
    ['scored at', when(typeof x?.scored_at === 'string' ? x.scored_at : undefined)],
    [
      'sightings',
      html`${typeof x?.sightings === 'object' && x.sightings !== null ? JSON.stringify(x.sightings) : '–'}`,
    ],
  ];
  const prov = provenance.map(
    (p) =>
      html`<tr><td class="value">${p.source}</td><td>!${tlpBadge(p.tlp)}</td><td class="num">${p.confidence ?? '–'}</td><td>!${when(p.first_seen)}</td><td>!${when(p.last_seen)}</td><td>${(p.labels ?? []).join(', ')}</td></tr>`,
  );
  const rel =
    related && Object.keys(related).length
      ? kvTable(
          Object.entries(related)
            .sort()
            .map(([k, names]) => [k, html`${names.join(', ')}`]),
        )
      : html`<p class="muted">none that this key may see</p>`;
  return html`<h2>Summary</h2>!${kvTable(summary)}<h2>Score</h2>!${kvTable(scoreRows)}<p class="muted">The score is computed from the contributions this key may see.</p>!${history}<h2>Provenance</h2><table id="provenance"><thead><tr><th>source</th><th>TLP</th><th class="num">confidence</th><th>first seen</th><th>last seen</th><th>labels</th></tr></thead><tbody>!${prov}</tbody></table><h2>Related</h2>!${rel}<h2>Deliveries</h2><div id="deliveries">!${deliveries}</div><h2>As the API answers it</h2><pre id="object-json">${JSON.stringify(view, null, 2)}</pre>`;
}
