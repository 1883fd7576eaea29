/**
 * Score history (docs/scoring.md §4a, docs/adr/0026-score-history.md): every time a stored
 * indicator's `x_stixgate.score` actually changes, the store keeps one small entry saying when,
 * from what, to what and why. Both backends derive the entry with `scoreChange` from the object
 * before and after the write, whatever wrote it (an ingest merge, the re-score job, a sighting, an
 * enrichment result), so no writer has to remember to record it. At most SCORE_HISTORY_CAP entries
 * are kept per object, the newest.
 */
import type { SourceProvenance, StixObject } from '../core/stix.js';
import { stixTime } from '../core/stix.js';

/** Entries kept per object: the newest ones (an IPv4 indicator's whole decay is about ten). */
export const SCORE_HISTORY_CAP = 16;

/**
 * Why a score changed, decided from what differs between the two states:
 * `source` an independent source delivered it (new, or seen again: `sources` names it);
 * `enrichment` an enricher's verdict (`sources` names `enrich:<id>`); `sighting` the sightings
 * summary grew; `decay` nothing but time (the re-score job) or the scoring configuration.
 */
export const SCORE_REASONS = ['source', 'enrichment', 'sighting', 'decay'] as const;
export type ScoreReason = (typeof SCORE_REASONS)[number];

export interface ScoreHistoryEntry {
  /** When the change was written (RFC 3339, the writer's clock). */
  at: string;
  score: number;
  previous: number;
  reason: ScoreReason;
  /** The contributions whose change moved the score (`source`, `enrichment`), sorted. */
  sources: string[];
  /** Every contribution behind the new score, sorted: a reader sees the entry only when it sees all of them. */
  contributors: string[];
}

function scoreOf(obj: StixObject | undefined): number | undefined {
  const s = obj?.x_stixgate?.score;
  return typeof s === 'number' ? s : undefined;
}

function sameProvenance(a: SourceProvenance | undefined, b: SourceProvenance | undefined): boolean {
  return a !== undefined && b !== undefined && JSON.stringify(a) === JSON.stringify(b);
}

/**
 * The history entry for writing `after` over `before` at `now` (epoch ms), or undefined when the
 * score did not change (or either side has none: an object's first score is not a change; it is
 * the `previous` of its first entry, or its current score).
 */
export function scoreChange(
  before: StixObject | undefined,
  after: StixObject,
  now: number,
): ScoreHistoryEntry | undefined {
  const previous = scoreOf(before);
  const score = scoreOf(after);
  if (previous === undefined || score === undefined || previous === score) return undefined;
  const old = before?.x_stixgate?.sources ?? {};
  const cur = after.x_stixgate?.sources ?? {};
  const contributors = Object.keys(cur).sort();
  const changed = contributors.filter((s) => !sameProvenance(Object.hasOwn(old, s) ? old[s] : undefined, cur[s]));
  const independent = changed.filter((s) => !s.startsWith('enrich:'));
  let reason: ScoreReason;
  let sources: string[];
  if (independent.length > 0) [reason, sources] = ['source', independent];
  else if (changed.length > 0) [reason, sources] = ['enrichment', changed];
  else if (JSON.stringify(before?.x_stixgate?.sightings) !== JSON.stringify(after.x_stixgate?.sightings))
    [reason, sources] = ['sighting', []];
  else [reason, sources] = ['decay', []];
  // whole seconds: what both stores keep
  return { at: stixTime(Math.floor(now / 1000) * 1000), score, previous, reason, sources, contributors };
}

/** `history` (oldest first) with `entry` appended, keeping the newest `cap`. */
export function appendHistory(
  history: readonly ScoreHistoryEntry[],
  entry: ScoreHistoryEntry | undefined,
  cap = SCORE_HISTORY_CAP,
): ScoreHistoryEntry[] {
  const out = entry ? [...history, entry] : [...history];
  return out.length > cap ? out.slice(out.length - cap) : out;
}

/**
 * The compact form a store keeps when it keeps the history as text (OpenSearch's `score_history`
 * field): one array per entry, `[epoch s, score, previous, reason index, [changed…],
 * [contributor…]]`.
 */
export type PackedEntry = [number, number, number, number, string[], string[]];

export function packHistory(history: readonly ScoreHistoryEntry[]): string {
  return JSON.stringify(
    history.map(
      (e): PackedEntry => [
        Math.floor(Date.parse(e.at) / 1000),
        e.score,
        e.previous,
        SCORE_REASONS.indexOf(e.reason),
        e.sources,
        e.contributors,
      ],
    ),
  );
}

/** The entries of a packed history; an absent or unreadable one is empty (history is informative only). */
export function unpackHistory(text: string | undefined): ScoreHistoryEntry[] {
  if (typeof text !== 'string' || text === '') return [];
  let rows: unknown;
  try {
    rows = JSON.parse(text);
  } catch {
    return [];
  }
  if (!Array.isArray(rows)) return [];
  return rows.flatMap((r: unknown) => {
    if (!Array.isArray(r) || r.length !== 6) return [];
    const fields: unknown[] = r;
    const [at, score, previous, reason, sources, contributors] = fields;
    const why = typeof reason === 'number' ? SCORE_REASONS[reason] : undefined;
    if (typeof at !== 'number' || typeof score !== 'number' || typeof previous !== 'number' || why === undefined)
      return [];
    return [
      {
        at: stixTime(at * 1000),
        score,
        previous,
        reason: why,
        sources: stringList(sources),
        contributors: stringList(contributors),
      },
    ];
  });
}

/** The strings of a decoded list (anything else dropped). */
export function stringList(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}
