import { indicatorIdForPattern, deterministicId } from '../../src/core/ids.js';
import {
  TLP_LEVELS,
  TLP_MARKING_BY_LEVEL,
  TLP_MARKING_IDS,
  tlpRank,
  type StixObject,
  type TlpLevel,
} from '../../src/core/stix.js';
import type { Store } from '../../src/store/contract.js';
import { ingestPage } from '../helpers/offline-run.js';
import { must } from '../helpers/must.js';

/**
 * The TLP matrix's data: 5 sources, each delivering values at each of the 5 TLP levels (by
 * marking: TLP 1.0 ids where they exist for odd sources, TLP 2.0 ids otherwise), values shared
 * by two sources at every pair of levels (the stricter source's content is the newer, so it is
 * the stored content), and one value listed by all five. Every contribution carries text that
 * names it (label, description, malware name), so a leak shows as that text in an answer.
 */

export const SOURCES = ['src-a', 'src-b', 'src-c', 'src-d', 'src-e'] as const;
export type SourceId = (typeof SOURCES)[number];
export const CONFIDENCE: Record<SourceId, number> = { 'src-a': 10, 'src-b': 30, 'src-c': 50, 'src-d': 60, 'src-e': 70 };

export interface Contribution {
  source: SourceId;
  tlp: TlpLevel;
  /** Text only this contribution carries. */
  tag: string;
}

export interface MatrixValue {
  value: string;
  indicatorId: string;
  contributions: Contribution[];
}

const lvl = (l: TlpLevel) => l.replace('+', '-');
const TLP1: Partial<Record<TlpLevel, string>> = Object.fromEntries(
  Object.entries(TLP_MARKING_IDS)
    .filter(([id]) => !Object.values(TLP_MARKING_BY_LEVEL).includes(id))
    .map(([id, l]) => [l, id]),
);

function val(value: string, contributions: { source: SourceId; tlp: TlpLevel }[]): MatrixValue {
  const tagged = contributions.map((c) => ({ ...c, tag: `x${value.replace(/\./g, '')}-${c.source}-${lvl(c.tlp)}` }));
  return { value, indicatorId: indicatorIdForPattern(`[ipv4-addr:value = '${value}']`), contributions: tagged };
}

export function matrixValues(): MatrixValue[] {
  const out: MatrixValue[] = [];
  // every source at every level: 25 single-contribution values
  for (const [s, source] of SOURCES.entries())
    for (const [l, tlp] of TLP_LEVELS.entries()) out.push(val(`10.0.${s}.${l}`, [{ source, tlp }]));
  // every pair of levels on one value, the less restrictive from src-a, the stricter from src-b:
  // 10 values, the inference case (clear + red) among them
  for (let i = 0; i < TLP_LEVELS.length; i++) {
    for (let j = i + 1; j < TLP_LEVELS.length; j++)
      out.push(
        val(`10.1.${i}.${j}`, [
          { source: 'src-a', tlp: must(TLP_LEVELS[i], 'TLP_LEVELS[i]') },
          { source: 'src-b', tlp: must(TLP_LEVELS[j], 'TLP_LEVELS[j]') },
        ]),
      );
  }
  // all five sources on one value, one level each
  out.push(
    val(
      '10.2.0.1',
      SOURCES.map((source, i) => ({ source, tlp: must(TLP_LEVELS[i], 'TLP_LEVELS[i]') })),
    ),
  );
  return out;
}

/** The contributions a reader with `ceiling` sees. */
export function visible(v: MatrixValue, ceiling: TlpLevel): Contribution[] {
  return v.contributions.filter((c) => tlpRank(c.tlp) <= tlpRank(ceiling));
}

/** The malware a contribution's indicator indicates (one per contribution, at its TLP). */
export function malwareId(c: Contribution): string {
  return deterministicId('malware', c.tag);
}

const T = (ms: number) => new Date(ms).toISOString();

/** The objects one source delivers: per contribution an indicator, its malware and the relationship. */
export function objectsOf(source: SourceId, values: MatrixValue[], t0: number): StixObject[] {
  const s = SOURCES.indexOf(source);
  // later sources deliver newer versions: on a shared value the stricter source's content wins
  const modified = T(t0 - 86_400_000 + s * 60_000);
  const out: StixObject[] = [];
  for (const v of values) {
    for (const c of v.contributions) {
      if (c.source !== source) continue;
      const marking = [s % 2 === 1 && TLP1[c.tlp] ? must(TLP1[c.tlp], 'TLP1[c.tlp]') : TLP_MARKING_BY_LEVEL[c.tlp]];
      out.push({
        type: 'indicator',
        spec_version: '2.1',
        id: v.indicatorId,
        created: modified,
        modified,
        pattern: `[ipv4-addr:value = '${v.value}']`,
        pattern_type: 'stix',
        valid_from: modified,
        name: `name-${c.tag}`,
        description: `desc-${c.tag}`,
        labels: [`lbl-${c.tag}`],
        object_marking_refs: marking,
      });
      out.push({
        type: 'malware',
        spec_version: '2.1',
        id: malwareId(c),
        created: modified,
        modified,
        name: `mal-${c.tag}`,
        is_family: true,
        object_marking_refs: marking,
      });
      out.push({
        type: 'relationship',
        spec_version: '2.1',
        id: deterministicId('relationship', `rel-${c.tag}`),
        created: modified,
        modified,
        relationship_type: 'indicates',
        source_ref: v.indicatorId,
        target_ref: malwareId(c),
        object_marking_refs: marking,
      });
    }
  }
  return out;
}

/** Stores `objects` as matrix source `source` (its confidence, no network) at time `t0`. */
export async function ingestMatrixSource(store: Store, source: SourceId, objects: StixObject[], t0: number) {
  await ingestPage({ id: source, objects, store, now: () => t0, config: { confidence: CONFIDENCE[source] } });
}
