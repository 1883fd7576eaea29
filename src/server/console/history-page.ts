import { html } from 'ghtml';
import type { ScoreHistoryEntry } from '../../store/score-history.js';
import { when } from './layout.js';

const REASON_TEXT: Record<ScoreHistoryEntry['reason'], string> = {
  source: 'delivered by',
  enrichment: 'enrichment verdict from',
  sighting: 'sighting reported',
  decay: 'decay (or a scoring change)',
};

/**
 * The score history section of the object page (markup): the entries the key may see, newest
 * first; `undefined` when the object has no score history (not an indicator, or a store without
 * one).
 */
export function historySection(history: readonly ScoreHistoryEntry[] | undefined): string {
  if (history === undefined) return '';
  const note = html`<p class="muted">Each write that changed the score, the newest 16 kept; an entry is shown only when this key may see every contribution behind it.</p>`;
  if (history.length === 0)
    return html`<h3>Score history</h3><p class="muted" id="score-history">no change of the score this key may see</p>!${note}`;
  const rows = [...history]
    .reverse()
    .map(
      (e) =>
        html`<tr><td>!${when(e.at)}</td><td class="num">${e.previous}</td><td class="num">${e.score}</td><td>${REASON_TEXT[e.reason]}${e.sources.length ? ` ${e.sources.join(', ')}` : ''}</td></tr>`,
    );
  return html`<h3>Score history</h3><table id="score-history"><thead><tr><th>at</th><th class="num">from</th><th class="num">to</th><th>why</th></tr></thead><tbody>!${rows}</tbody></table>!${note}`;
}
