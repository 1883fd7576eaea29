import type { StixObject, TlpLevel } from '../core/stix.js';
import {
  classifyDefinition,
  contributionTlpAtIngest,
  markingRefsOf,
  readMarkings,
  type MarkingKind,
  type MarkingReading,
} from './markings.js';
import { TLP_MARKING_IDS } from '../core/stix.js';

/** Most marking definitions one resolver remembers (a run sees a handful; the bound is for hostile feeds). */
const MAX_DEFINITIONS = 10_000;

export interface ContributionMarking {
  tlp: TlpLevel;
  reading: MarkingReading;
}

/**
 * Resolves the markings of a source run's objects to contribution TLPs. Marking definitions come
 * from the run's own pages (a bundle carries its definitions) and, for refs not seen there, from
 * the store (definitions delivered earlier). A ref neither knows is unreadable and fails closed.
 */
export class MarkingResolver {
  private readonly defs = new Map<string, MarkingKind>();

  constructor(
    private readonly getMany: (ids: string[]) => Promise<Map<string, StixObject>>,
    private readonly defaultTlp: TlpLevel,
  ) {}

  /** Learns the page's marking definitions and looks up, once, the refs still unknown. */
  async learn(objects: readonly StixObject[]): Promise<void> {
    for (const o of objects) if (o.type === 'marking-definition') this.remember(o.id, classifyDefinition(o));
    const missing = new Set<string>();
    for (const o of objects) {
      for (const ref of markingRefsOf(o))
        if (typeof ref === 'string' && !TLP_MARKING_IDS[ref] && !this.defs.has(ref)) missing.add(ref);
    }
    if (missing.size === 0) return;
    const found = await this.getMany([...missing].slice(0, MAX_DEFINITIONS));
    for (const [id, def] of found) if (def.type === 'marking-definition') this.remember(id, classifyDefinition(def));
  }

  /** The TLP of one object's contribution, given its source's `tlp`. */
  markingOf(obj: StixObject, sourceTlp: TlpLevel | undefined): ContributionMarking {
    const reading = readMarkings(obj, this.defs);
    return { tlp: contributionTlpAtIngest(reading, sourceTlp, this.defaultTlp), reading };
  }

  private remember(id: string, k: MarkingKind): void {
    if (this.defs.size >= MAX_DEFINITIONS && !this.defs.has(id)) return;
    this.defs.set(id, k);
  }
}
