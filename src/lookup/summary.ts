import type { StixObject } from '../core/stix.js';

export interface SourceSummary {
  /** Configured source ids of the object's contributions, sorted. */
  sources: string[];
  /** Distinct labels of the object and its contributions, sorted. */
  labels: string[];
  /** Earliest first_seen and latest last_seen of the contributions (epoch ms, NaN = none). */
  first: number;
  last: number;
}

/**
 * What a lookup answer says of an indicator's provenance: its sources, its labels (the object's
 * and every source's) and the seen window. `parse` is Date.parse or a memoised equivalent.
 */
export function summariseSources(obj: StixObject, parse: (text: string) => number = Date.parse): SourceSummary {
  const prov = obj.x_stixgate?.sources;
  const sources = prov ? Object.keys(prov) : [];
  if (sources.length > 1) sources.sort();
  let first = Number.NaN;
  let last = Number.NaN;
  // distinct labels (SameValueZero, as a Set would keep them); lists are short
  const labels: string[] = [];
  if (Array.isArray(obj.labels)) for (const label of obj.labels) if (!labels.includes(label)) labels.push(label);
  for (const id of sources) {
    const p = prov?.[id];
    if (p === undefined) continue; // id is one of its keys
    const f = parse(p.first_seen);
    const l = parse(p.last_seen);
    if (Number.isFinite(f) && !(first <= f)) first = f;
    if (Number.isFinite(l) && !(last >= l)) last = l;
    if (p.labels) for (const label of p.labels) if (!labels.includes(label)) labels.push(label);
  }
  if (labels.length > 1) labels.sort();
  return { sources, labels, first, last };
}
