import type { Rejection } from '../../core/errors.js';
import type { StixObject } from '../../core/stix.js';
import type { Change, IngestItem } from '../contract.js';
import { objectObservables } from '../../core/object-observables.js';
import { checkIngestItem } from '../ingest-check.js';
import { storedObject } from '../stored-object.js';

export type ObjectState = 'active' | 'revoked' | 'expired';

/** The document kept per STIX object (mappings.ts OBJECTS_MAPPINGS). */
export interface ObjectDoc {
  id: string;
  type: string;
  state: ObjectState;
  seq: number;
  first_seq: number;
  created?: unknown;
  modified?: unknown;
  valid_until?: unknown;
  values?: string[];
  obs?: { type: string; value: string }[];
  name?: string;
  description?: string;
  pattern?: string;
  provenance: { sources: string[]; score?: number; tlp?: string[]; first_seen?: string; last_seen?: string };
  json: string;
  /** The packed score history (src/store/score-history.ts), stored, not indexed. */
  score_history?: string;
}

/** A stored object as read back, with the version numbers for optimistic concurrency. */
export interface Existing {
  obj: StixObject;
  json: string;
  seqNo: number;
  primaryTerm: number;
  firstSeq: number;
  seq: number;
  /** The document's packed score history, when it has one. */
  history?: string;
}

export function stateOf(obj: StixObject): ObjectState {
  if (obj.revoked === true) return 'revoked';
  if (obj.x_stixgate?.expired === true) return 'expired';
  return 'active';
}

export const OP_OF_STATE: Record<ObjectState, Change['op']> = {
  active: 'upsert',
  revoked: 'revoke',
  expired: 'expire',
};

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/**
 * The document for an object. Timestamps are passed through as the object carries them, so an
 * object whose `modified` is not a date is rejected by OpenSearch's mapping (a per-item 400,
 * reported as a rejection) rather than silently stored without it.
 */
export function toDoc(obj: StixObject, json: string, seq: number, firstSeq: number): ObjectDoc {
  const sources = obj.x_stixgate?.sources ?? {};
  const names = Object.keys(sources).sort();
  let first: string | undefined;
  let last: string | undefined;
  for (const n of names) {
    const p = sources[n];
    if (p === undefined) continue; // n is one of its keys
    if (first === undefined || (p.first_seen && Date.parse(p.first_seen) < Date.parse(first))) first = p.first_seen;
    if (last === undefined || (p.last_seen && Date.parse(p.last_seen) > Date.parse(last))) last = p.last_seen;
  }
  const obs = objectObservables(obj);
  const doc: ObjectDoc = {
    id: obj.id,
    type: obj.type,
    state: stateOf(obj),
    seq,
    first_seq: firstSeq,
    provenance: { sources: names },
    json,
  };
  if (obj.created !== undefined) doc.created = obj.created;
  if (obj.modified !== undefined) doc.modified = obj.modified;
  if (obj.valid_until !== undefined) doc.valid_until = obj.valid_until;
  if (obs.length > 0) {
    doc.values = [...new Set(obs.map((o) => o.value))];
    doc.obs = obs.map((o) => ({ type: o.type, value: o.value }));
  }
  for (const k of ['name', 'description', 'pattern'] as const) {
    const v = str(obj[k]);
    if (v !== undefined) doc[k] = v;
  }
  if (typeof obj.x_stixgate?.score === 'number') doc.provenance.score = obj.x_stixgate.score;
  const tlp = contributionTlps(obj);
  if (tlp.length > 0) doc.provenance.tlp = tlp;
  if (first) doc.provenance.first_seen = first;
  if (last) doc.provenance.last_seen = last;
  return doc;
}

/**
 * The distinct TLPs of the object's contributions, for search (a keyword array). There is no
 * merged TLP: what a reader may see is decided by src/access from the contributions themselves.
 */
function contributionTlps(obj: StixObject): string[] {
  const out = new Set<string>();
  for (const p of Object.values(obj.x_stixgate?.sources ?? {})) if (typeof p.tlp === 'string') out.add(p.tlp);
  return [...out].sort();
}

/** The stores' item checks, and OpenSearch's limit on `_id` (512 bytes; 500 leaves a margin). */
export function invalidItem(item: IngestItem | undefined, index: number): Rejection | undefined {
  const bad = checkIngestItem(item, index);
  if (bad || item === undefined) return bad;
  const id = item.object.id;
  if (Buffer.byteLength(id) > 500)
    return {
      reason: 'stix_invalid',
      message: 'object id is longer than 500 bytes',
      location: { index, source: item.source, objectId: id },
    };
  return undefined;
}

/** Parses a hit's `_source.json` (JSON.parse keeps `__proto__` keys as own data properties). */
export function parseObject(json: string): StixObject {
  return storedObject(json);
}
