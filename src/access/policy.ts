import { isTlpLevel, tlpOfRank, tlpRank, type SourceProvenance, type StixObject, type TlpLevel } from '../core/stix.js';
import { ENRICH_PREFIX, NO_DECAY_SCORING, type Scoring } from '../score/model.js';

/**
 * The access policy: one answer, for every reader, to "which contributions of this object may it
 * see" (docs/access.md).
 *
 * Every source's contribution to a merged object keeps its own TLP (`x_stixgate.sources[s].tlp`,
 * written at ingest from the object's markings, else the source's `tlp`, else `default_tlp`). A
 * reader with ceiling X sees an object iff at least one independent contribution is at or below X,
 * and then only those contributions. Enrichment contributions (`enrich:*`) never make an object
 * visible on their own; they are shown with a non-empty view when their own TLP (if any) is at or
 * below the ceiling.
 */

/** Who reads: an API key, the anonymous caller, a sink, an export, a TAXII collection, an enricher. */
export type ReaderKind = 'key' | 'anonymous' | 'sink' | 'export' | 'taxii' | 'enricher';

export interface Reader {
  kind: ReaderKind;
  /** The most restrictive TLP this reader may receive. */
  ceiling: TlpLevel;
}

export interface AccessPolicy {
  /** TLP of a contribution that has none recorded (configuration `default_tlp`, default amber). */
  defaultTlp: TlpLevel;
  /** Score weights used to score a view from its visible contributions. */
  scoring: Scoring;
}

export const DEFAULT_TLP: TlpLevel = 'amber';

export const DEFAULT_POLICY: AccessPolicy = Object.freeze({ defaultTlp: DEFAULT_TLP, scoring: NO_DECAY_SCORING });

export function accessPolicy(o: { defaultTlp?: TlpLevel; scoring?: Scoring } = {}): AccessPolicy {
  return { defaultTlp: o.defaultTlp ?? DEFAULT_TLP, scoring: o.scoring ?? NO_DECAY_SCORING };
}

/** The ceiling of the anonymous caller. */
export const ANONYMOUS_CEILING: TlpLevel = 'clear';

/** Enrichers send a value to a third party only when a contribution at or below this exists. */
export const DEFAULT_ENRICHER_CEILING: TlpLevel = 'green';

export function atOrBelow(level: TlpLevel, ceiling: TlpLevel): boolean {
  return tlpRank(level) <= tlpRank(ceiling);
}

export function isIndependent(source: string): boolean {
  return !source.startsWith(ENRICH_PREFIX);
}

/** The TLP of one contribution under the policy. */
export function contributionTlp(p: SourceProvenance, policy: AccessPolicy): TlpLevel {
  return isTlpLevel(p.tlp) ? p.tlp : policy.defaultTlp;
}

/** The least restrictive TLP the contribution ever had (it was released at that level once). */
export function releasedTlp(p: SourceProvenance, policy: AccessPolicy): TlpLevel {
  const r = p.released_tlp;
  return isTlpLevel(r) ? r : contributionTlp(p, policy);
}

function provenance(obj: StixObject): Record<string, SourceProvenance> {
  return obj.x_stixgate?.sources ?? {};
}

/**
 * The sources whose contributions a reader with `ceiling` sees, sorted; empty when the object is
 * invisible to it (no independent contribution at or below the ceiling).
 */
export function visibleSources(obj: StixObject, ceiling: TlpLevel, policy: AccessPolicy): string[] {
  const prov = provenance(obj);
  const max = tlpRank(ceiling);
  const out: string[] = [];
  let independent = false;
  for (const [source, p] of Object.entries(prov)) {
    if (tlpRank(contributionTlp(p, policy)) > max) continue;
    out.push(source);
    if (isIndependent(source)) independent = true;
  }
  if (!independent) return [];
  return out.sort();
}

/**
 * The same rule for contributions recorded apart from their object (the delivery ledger): the
 * reader sees the ones at or below its ceiling, and none unless one of them is independent.
 */
export function visibleRecorded<T extends { source: string; tlp: string }>(list: readonly T[], ceiling: TlpLevel): T[] {
  const max = tlpRank(ceiling);
  const out = list.filter((c) => isTlpLevel(c.tlp) && tlpRank(c.tlp) <= max);
  return out.some((c) => isIndependent(c.source)) ? out : [];
}

/** True when some independent contribution's TLP (as `tlpOf` reads it) is at or below `ceiling`. */
function anyContributionAtOrBelow(
  obj: StixObject,
  ceiling: TlpLevel,
  tlpOf: (p: SourceProvenance) => TlpLevel,
): boolean {
  const prov = provenance(obj);
  const max = tlpRank(ceiling);
  for (const [source, p] of Object.entries(prov)) {
    if (isIndependent(source) && tlpRank(tlpOf(p)) <= max) return true;
  }
  return false;
}

/** True when a reader with `ceiling` sees the object at all. */
export function canSee(obj: StixObject, ceiling: TlpLevel, policy: AccessPolicy): boolean {
  return anyContributionAtOrBelow(obj, ceiling, (p) => contributionTlp(p, policy));
}

/**
 * True when the object was ever visible at `ceiling`: some independent contribution was once
 * released at or below it. Sinks send a removal only for such objects, so a value never shown to
 * a sink is never named to it, not even in a delete.
 */
export function everVisible(obj: StixObject, ceiling: TlpLevel, policy: AccessPolicy): boolean {
  return anyContributionAtOrBelow(obj, ceiling, (p) => releasedTlp(p, policy));
}

/**
 * The least restrictive independent contribution's TLP rank (the lowest ceiling that sees the
 * object), and the most restrictive one's: readers at or above `high` see every contribution.
 * `low` is -1 when the object has no independent contribution.
 */
export function tlpSpan(obj: StixObject, policy: AccessPolicy): { low: number; high: number } {
  const prov = provenance(obj);
  let low = Infinity;
  let high = -1;
  for (const [source, p] of Object.entries(prov)) {
    const r = tlpRank(contributionTlp(p, policy));
    if (r > high) high = r;
    if (isIndependent(source) && r < low) low = r;
  }
  return { low: low === Infinity ? -1 : low, high };
}

/** The TLP a reader with `ceiling` receives the object under: its strictest visible contribution. */
export function viewTlp(obj: StixObject, ceiling: TlpLevel, policy: AccessPolicy): TlpLevel | undefined {
  const prov = provenance(obj);
  const max = tlpRank(ceiling);
  let worst = -1;
  let independent = false;
  for (const [source, p] of Object.entries(prov)) {
    const r = tlpRank(contributionTlp(p, policy));
    if (r > max) continue;
    if (isIndependent(source)) independent = true;
    if (r > worst) worst = r;
  }
  return independent ? tlpOfRank(worst) : undefined;
}
