import { html } from 'ghtml';
import type { SinkState, SourceState } from '../admin-types.js';
import { counts, tlpBadge, when, type PageContext } from './layout.js';
import { reconcileForms } from './plan-page.js';

/**
 * The sources and sinks pages: one row per configured component, from the admin API's own
 * answers (`AdminControl.sources()` / `sinks()`), so the console and `GET /api/v1/admin/*` never
 * disagree. Error texts come from remote systems and feeds: they are escaped like everything else.
 */

type Job = SourceState | SinkState;

/** ok, failing, paused, running or never run, from the job's state and last run. */
export function health(j: Job): { label: string; cls: string } {
  if (j.state === 'auth_refused') return { label: 'credentials refused', cls: 'bad' };
  if (j.paused) return { label: 'paused', cls: 'warn' };
  if (j.running) return { label: 'running', cls: 'ok' };
  if (j.last_run?.outcome === 'error' || j.consecutive_failures > 0) return { label: 'failing', cls: 'bad' };
  if (!j.last_run) return { label: 'not run yet', cls: 'muted' };
  return { label: 'ok', cls: 'ok' };
}

function lastRun(j: Job): string {
  const r = j.last_run;
  if (!r) return html`<span class="muted">–</span>`;
  return html`!${when(r.ended ?? r.started)} <span class="${r.outcome === 'error' ? 'bad' : 'muted'}">${r.outcome}</span>`;
}

function errorCell(j: Job): string {
  const e = j.last_run?.error;
  return e === undefined ? html`<span class="muted">–</span>` : html`<div class="err">${e}</div>`;
}

/** Run now / pause / resume buttons (forms with the session's CSRF token; none without a session, where a header key is used instead). */
function actions(kind: 'sources' | 'sinks', j: Job, ctx: PageContext): string {
  if (!ctx.csrf) return '';
  const form = (action: string, label: string) =>
    html`<form class="inline" method="post" action="/console/${kind}/${encodeURIComponent(j.id)}/${action}"><input type="hidden" name="csrf" value="${ctx.csrf}"><button class="secondary" type="submit">${label}</button></form>`;
  return [
    kind === 'sources' ? form('run', 'Run now') : form('push', 'Push now'),
    j.paused ? form('resume', 'Resume') : form('pause', 'Pause'),
    kind === 'sinks' ? reconcileForms(j.id, ctx.csrf) : '',
  ].join('');
}

export function sourcesBody(sources: SourceState[], ctx: PageContext, notice?: string): string {
  const rows = sources.map((s) => {
    const h = health(s);
    return html`<tr id="source-${s.id}"><td class="value">${s.id}</td><td>${s.type}</td><td class="${h.cls}">${h.label}</td><td>!${lastRun(s)}</td><td>!${when(s.next_run)}</td><td class="num">${s.consecutive_failures}</td><td>!${errorCell(s)}</td><td>!${counts(s.last_summary)}</td><td>!${actions('sources', s, ctx)}</td></tr>`;
  });
  return html`!${noticeBox(notice)}<p class="muted">${sources.length} source(s). Counts are those of the last run in this process.</p><table><thead><tr><th>source</th><th>type</th><th>health</th><th>last run</th><th>next run</th><th class="num">failures</th><th>last error</th><th>last run counts</th><th></th></tr></thead><tbody>!${rows.length ? rows : html`<tr><td colspan="9" class="muted">no sources configured</td></tr>`}</tbody></table>`;
}

export interface SinkExtras {
  /** Records the remote side rejected for good (written to the dead-letter file) since the process started. */
  deadLetters(id: string): number | undefined;
  /** The drift the last reconcile or plan found and left, by kind (`stixgate_sink_drift_items`). */
  drift(id: string): Record<string, number> | undefined;
  /** Unix seconds of the last applied reconcile; 0 or undefined: none yet (`stixgate_sink_last_reconcile_timestamp_seconds`). */
  lastReconcile(id: string): number | undefined;
}

const DRIFT_KINDS = ['missing', 'stale', 'extra'] as const;

function driftCell(d: Record<string, number> | undefined): string {
  if (!d) return html`<span class="muted">–</span>`;
  const parts = DRIFT_KINDS.map(
    (k) => html`<span class="${(d[k] ?? 0) > 0 ? 'warn' : 'muted'}">${k} ${d[k] ?? 0}</span>`,
  );
  return html`!${parts.join(' · ')}<br><span class="muted">foreign ${d.foreign ?? 0} (left alone)</span>`;
}

export function sinksBody(sinks: SinkState[], ctx: PageContext, extras: SinkExtras, notice?: string): string {
  const rows = sinks.map((s) => {
    const h = health(s);
    const dead = extras.deadLetters(s.id);
    const lastRec = extras.lastReconcile(s.id) ?? 0;
    return html`<tr id="sink-${s.id}"><td class="value">${s.id}</td><td>${s.type}</td><td class="${h.cls}">${h.label}</td><td>!${tlpBadge(s.max_tlp)}</td><td class="num">${s.cursor}</td><td class="num">${s.head}</td><td class="num ${s.lag > 0 ? 'warn' : ''}">${s.lag}</td><td class="num">${dead ?? '–'}</td><td class="drift">!${driftCell(extras.drift(s.id))}</td><td>!${lastRec > 0 ? when(new Date(lastRec * 1000).toISOString()) : html`<span class="muted">never</span>`} <a href="/console/sinks/${encodeURIComponent(s.id)}/plan">plan</a></td><td>!${lastRun(s)}</td><td>!${when(s.next_run)}</td><td>!${errorCell(s)}</td><td>!${counts(s.last_summary)}</td><td>!${actions('sinks', s, ctx)}</td></tr>`;
  });
  return html`!${noticeBox(notice)}<p class="muted">${sinks.length} sink(s). Lag is the change-log entries not delivered yet (head − cursor); dead letters are the records rejected for good since the process started; drift is what the last reconcile or plan found different between the product and the store and left so.</p><table><thead><tr><th>sink</th><th>type</th><th>health</th><th>max TLP</th><th class="num">cursor</th><th class="num">head</th><th class="num">lag</th><th class="num">dead letters</th><th>drift</th><th>last reconcile</th><th>last run</th><th>next run</th><th>last error</th><th>last run counts</th><th></th></tr></thead><tbody>!${rows.length ? rows : html`<tr><td colspan="15" class="muted">no sinks configured</td></tr>`}</tbody></table>`;
}

export function noticeBox(notice: string | undefined): string {
  return notice === undefined ? '' : html`<div class="notice" role="status">${notice}</div>`;
}
