import { LRUCache } from 'lru-cache';
import { deterministicId, observableScoId } from '../core/ids.js';
import {
  TLP_MARKING_BY_LEVEL,
  stixTime,
  tlpRank,
  type Observable,
  type StixObject,
  type TlpLevel,
} from '../core/stix.js';
import type { Store } from '../store/contract.js';

/**
 * The record of one lookup, kept twice: in a bounded in-memory LRU and in the store as the
 * lookup note (a STIX `note` whose id is derived from the enricher id and the value, so there is
 * exactly one per enricher and value, and a later lookup replaces it by its newer `modified`).
 *
 * Why a note and not a cursor-like key: the note is the result the analyst sees anyway, it is
 * written in the same transaction as the change-log cursor (so a record never exists without
 * its result, nor the reverse), it survives restarts and is shared by every instance on a shared
 * store, and it keeps the cursor table small (cursors are listed by `stats()`).
 */

/** The custom property carried by lookup notes. */
export const LOOKUP_PROPERTY = 'x_stixgate_enrichment';

export interface LookupRecord {
  /** Epoch ms of the lookup. */
  at: number;
  found: boolean;
  maliciousness?: number;
}

export interface LookupProperty {
  enricher: string;
  observable: { type: string; value: string; hash?: string };
  looked_up: string;
  found: boolean;
  maliciousness?: number;
}

export const sourceName = (enricherId: string): string => `enrich:${enricherId}`;

export function valueKey(o: Observable): string {
  return `${o.type}|${o.hash ?? ''}|${o.value}`;
}

/** The id of the lookup note of `observable` for enricher `enricherId` (enrichers may return a note with this id to fill it). */
export function lookupNoteId(enricherId: string, o: Observable): string {
  return deterministicId('note', `enrichment|${enricherId}|${valueKey(o)}`);
}

/** Reads the lookup record out of a stored note; undefined when it is not one. */
export function recordOfNote(note: StixObject | undefined): LookupRecord | undefined {
  const p = note?.[LOOKUP_PROPERTY] as Partial<LookupProperty> | undefined;
  if (!p || typeof p.looked_up !== 'string') return undefined;
  const at = Date.parse(p.looked_up);
  if (Number.isNaN(at)) return undefined;
  return {
    at,
    found: p.found === true,
    ...(typeof p.maliciousness === 'number' ? { maliciousness: p.maliciousness } : {}),
  };
}

/** The bounded in-memory side of the lookup records; one per configured enricher, kept across runs. */
export class EnrichCache {
  private readonly lru: LRUCache<string, LookupRecord>;
  constructor(max = 10_000) {
    this.lru = new LRUCache({ max: Math.max(1, max) });
  }
  get(key: string): LookupRecord | undefined {
    return this.lru.get(key);
  }
  set(key: string, r: LookupRecord): void {
    this.lru.set(key, r);
  }
  get size(): number {
    return this.lru.size;
  }
}

/**
 * Fills `cache` from the store for the values it does not hold (one getMany for the whole page)
 * and returns the record of every value that has one.
 */
export async function loadRecords(
  store: Store,
  cache: EnrichCache,
  enricherId: string,
  values: Observable[],
): Promise<Map<string, LookupRecord>> {
  const out = new Map<string, LookupRecord>();
  const missing = new Map<string, string>(); // note id → value key
  for (const o of values) {
    const k = valueKey(o);
    const r = cache.get(k);
    if (r) out.set(k, r);
    else missing.set(lookupNoteId(enricherId, o), k);
  }
  if (missing.size > 0) {
    const notes = await store.getMany([...missing.keys()]);
    for (const [id, note] of notes) {
      const r = recordOfNote(note);
      const k = missing.get(id);
      if (r && k) {
        cache.set(k, r);
        out.set(k, r);
      }
    }
  }
  return out;
}

export function strictestTlp(levels: Iterable<TlpLevel>): TlpLevel | undefined {
  let worst: TlpLevel | undefined;
  for (const l of levels) if (worst === undefined || tlpRank(l) > tlpRank(worst)) worst = l;
  return worst;
}

function describe(o: Observable): string {
  return o.hash ? `${o.hash} ${o.value}` : o.value;
}

/**
 * The lookup note of one lookup. When the enricher returned a note with the lookup note's id, its
 * abstract and content are kept and the record is added; otherwise a short note is made.
 */
export function lookupNote(opts: {
  enricherId: string;
  service: string;
  observable: Observable;
  now: number;
  found: boolean;
  maliciousness?: number;
  indicatorIds: string[];
  tlp?: TlpLevel;
  fromEnricher?: StixObject;
}): StixObject {
  const { observable: o, now } = opts;
  const id = lookupNoteId(opts.enricherId, o);
  const ts = stixTime(now);
  const summary = !opts.found
    ? `${opts.service} has no report for ${describe(o)}`
    : opts.maliciousness !== undefined
      ? `${opts.service}: ${describe(o)} maliciousness ${opts.maliciousness}/100`
      : `${opts.service} report for ${describe(o)}`;
  const prop: LookupProperty = {
    enricher: opts.enricherId,
    observable: { type: o.type, value: o.value, ...(o.hash ? { hash: o.hash } : {}) },
    looked_up: ts,
    found: opts.found,
    ...(opts.maliciousness !== undefined ? { maliciousness: opts.maliciousness } : {}),
  };
  const base: Partial<StixObject> = opts.fromEnricher ?? {};
  const refs = new Set<string>([observableScoId(o), ...opts.indicatorIds]);
  for (const r of Array.isArray(base.object_refs) ? base.object_refs : []) if (typeof r === 'string') refs.add(r);
  const note: StixObject = {
    ...base,
    type: 'note',
    spec_version: '2.1',
    id,
    created: ts,
    modified: ts,
    abstract: typeof base.abstract === 'string' ? base.abstract : summary,
    content: typeof base.content === 'string' ? base.content : summary,
    object_refs: [...refs].sort(),
    [LOOKUP_PROPERTY]: prop,
  };
  if (opts.tlp && opts.tlp !== 'clear' && !Array.isArray(base.object_marking_refs))
    note.object_marking_refs = [TLP_MARKING_BY_LEVEL[opts.tlp]];
  return note;
}

/** The indicator as the enricher re-delivers it to carry its signal: content as stored, no provenance. */
export function signalCopy(indicator: StixObject): StixObject {
  const c: StixObject = { ...indicator };
  delete c.x_stixgate;
  return c;
}
