/**
 * The merge policy, as one pure function shared by every store backend.
 *
 * An object's state is a join over every version and delivery seen for its id:
 *  - content: the version with the newest `modified` wins; equal `modified` with different content
 *    is won by the version whose canonical content JSON sorts larger (order-independent). A newer
 *    version whose content equals the stored one except `created`/`modified` is "the same
 *    content": the stored `modified` is kept, so that re-polling a list feed writes nothing;
 *  - monotone fields, joined from every version, stale ones included (so that the end state does
 *    not depend on arrival order): `created` = earliest, indicator `valid_from` = earliest, `valid_until` = latest (absent = never
 *    expires), `revoked: true` sticks;
 *  - provenance per source in `x_stixgate.sources`: first_seen earliest, last_seen latest,
 *    labels union (sorted), TLP the most restrictive that source delivered (`released_tlp` the
 *    least restrictive, kept when it differs), confidence from the latest delivery (ties: the
 *    higher one);
 *  - `last_seen` and `valid_until` only move when they advance by more than `seenGranularityMs`,
 *    so a re-poll within the granularity is not a write;
 *  - markings: each contribution keeps its own TLP (the delivery's `tlp`, computed at ingest by
 *    src/access; else the object's TLP markings, an unknown one counting as red); there is no
 *    merged TLP: readers see views (src/access/view.ts). The stored markings are the winning
 *    content's; `x_stixgate.content_sources` lists the sources that delivered that content;
 *  - indicators carry `x_stixgate.score` (src/score/, docs/scoring.md), evaluated at the stored
 *    `x_stixgate.scored_at` to decide whether anything changed, and at `now` when something did;
 *    a `valid_until` no source gave is derived from the decay (`x_stixgate.derived_valid_until`)
 *    and does not take part in the valid_until join; the sightings summary is carried over;
 *    `valid_until` never exceeds the score's expiry (a later source value is kept beside it as
 *    `x_stixgate.source_valid_until`);
 *  - an indicator whose score's expiry time has passed is expired (`x_stixgate.expired`), also when
 *    it arrives so (a feed row last seen long ago): then it is also `never_active`, and sinks never
 *    hear of it until it becomes active;
 *  - an expired object becomes active again when its `valid_until` moves past `now` (indicators:
 *    and its score's expiry time too).
 *
 * The function never mutates its inputs and never assigns keys taken from input objects onto
 * plain objects (spread copies only), so `__proto__`/`constructor` keys ride along as data.
 */
import { StixgateError } from '../core/errors.js';
import { canonicalize } from '../core/canonical-json.js';
import {
  stixTime,
  tlpOfMarkings,
  tlpRank,
  type SourceProvenance,
  type StixObject,
  type TlpLevel,
} from '../core/stix.js';
import type { IngestItem } from './contract.js';
import {
  NO_DECAY_SCORING,
  applyScore,
  scoreExtension,
  sourceValidUntil,
  type ScoreExtension,
  type Scoring,
} from '../score/model.js';

export type MergeOutcome = 'created' | 'updated' | 'unchanged' | 'stale';

export interface MergeContext {
  /** Epoch ms; the default `seenAt` and the reference for re-activating expired objects. */
  now: number;
  /** last_seen and valid_until move only when they advance by more than this (default 1 h). */
  seenGranularityMs: number;
  /** The stored JSON of `existing` when the caller has it (saves re-serialising it). */
  existingJson?: string;
  /** Score weights and decay models (default: NO_DECAY_SCORING). */
  scoring?: Scoring;
}

export interface MergeResult {
  object: StixObject;
  outcome: MergeOutcome;
  /** The stored JSON of `object` when the merge already computed it (an update): callers store it instead of serialising again. */
  json?: string;
}

/** The stored JSON of a merge result, computed only when the merge did not already. */
export function resultJson(r: MergeResult): string {
  return r.json ?? storedJson(r.object);
}

export const DEFAULT_SEEN_GRANULARITY_MS = 3_600_000;

const NON_CONTENT_KEYS = new Set(['created', 'modified', 'x_stixgate']);

/** Canonical JSON of an object's content: everything but `created`, `modified`, `x_stixgate`. */
export function contentKey(obj: StixObject): string {
  const keys = Object.keys(obj).sort();
  let out = '{';
  let first = true;
  for (const k of keys) {
    if (NON_CONTENT_KEYS.has(k)) continue;
    const v = obj[k];
    if (v === undefined) continue;
    if (!first) out += ',';
    first = false;
    out += `${JSON.stringify(k)}:${canonicalize(v)}`;
  }
  return `${out}}`;
}

/** The canonical JSON a store keeps for an object (what `unchanged` compares). */
export function storedJson(obj: StixObject): string {
  return canonicalize(obj);
}

function parseTime(s: unknown): number | undefined {
  if (typeof s !== 'string') return undefined;
  const t = Date.parse(s);
  return Number.isNaN(t) ? undefined : t;
}

// A batch's deliveries share their seen time: the last conversion each way is remembered.
let lastSeenText: string | undefined;
let lastSeenMs: number | undefined;
let lastIsoMs = NaN;
let lastIso = '';

function parseSeen(s: unknown): number | undefined {
  if (typeof s !== 'string') return undefined;
  if (s !== lastSeenText) {
    lastSeenMs = parseTime(s);
    lastSeenText = s;
  }
  return lastSeenMs;
}

function isoTime(ms: number): string {
  if (ms !== lastIsoMs) {
    lastIso = stixTime(ms);
    lastIsoMs = ms;
  }
  return lastIso;
}

/** -1, 0, 1 comparing two `modified` values; a missing or invalid one sorts first. */
function compareModified(a: unknown, b: unknown): number {
  const ta = parseTime(a);
  const tb = parseTime(b);
  if (ta === tb) return 0;
  if (ta === undefined) return -1;
  if (tb === undefined) return 1;
  return ta < tb ? -1 : 1;
}

function earliest<T>(a: T, b: T): T {
  const ta = parseTime(a);
  const tb = parseTime(b);
  if (ta === undefined) return tb === undefined ? a : b;
  if (tb === undefined) return a;
  return tb < ta ? b : a;
}

/** valid_until join: absent means never expires; moves only by more than the granularity. */
function extendValidUntil(current: unknown, next: unknown, gran: number): unknown {
  if (current === undefined) return undefined;
  if (next === undefined) return undefined;
  const tc = parseTime(current);
  const tn = parseTime(next);
  if (tn === undefined) return current;
  if (tc === undefined) return next;
  return tn > tc + gran ? next : current;
}

function maxTlp(a: TlpLevel | undefined, b: TlpLevel | undefined): TlpLevel | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return tlpRank(b) > tlpRank(a) ? b : a;
}

function minTlp(a: TlpLevel | undefined, b: TlpLevel | undefined): TlpLevel | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return tlpRank(b) < tlpRank(a) ? b : a;
}

function stringLabels(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

function unionSorted(a: readonly string[] | undefined, b: readonly string[]): string[] | undefined {
  if (b.length === 0) return a && a.length > 0 ? a.slice() : undefined;
  const set = new Set(a ?? []);
  for (const x of b) set.add(x);
  return [...set].sort();
}

interface Delivery {
  seenMs: number;
  confidence?: number;
  labels: string[];
  tlp?: TlpLevel;
}

function mergeProvenance(old: SourceProvenance | undefined, d: Delivery, gran: number): SourceProvenance {
  const seen = isoTime(d.seenMs);
  if (!old) {
    const p: SourceProvenance = { first_seen: seen, last_seen: seen };
    if (d.confidence !== undefined) p.confidence = d.confidence;
    if (d.labels.length > 0) p.labels = [...new Set(d.labels)].sort();
    if (d.tlp !== undefined) p.tlp = d.tlp;
    return p;
  }
  const first = parseTime(old.first_seen);
  const last = parseTime(old.last_seen);
  const p: SourceProvenance = {
    first_seen: first === undefined || d.seenMs < first ? seen : old.first_seen,
    last_seen: last === undefined || d.seenMs > last + gran ? seen : old.last_seen,
  };
  let conf = old.confidence;
  if (d.confidence !== undefined) {
    if (conf === undefined || last === undefined || d.seenMs > last) conf = d.confidence;
    else if (d.seenMs === last && d.confidence > conf) conf = d.confidence;
  }
  if (conf !== undefined) p.confidence = conf;
  const labels = unionSorted(old.labels, d.labels);
  if (labels) p.labels = labels;
  const tlp = maxTlp(old.tlp, d.tlp);
  if (tlp !== undefined) p.tlp = tlp;
  const released = minTlp(old.released_tlp ?? old.tlp, d.tlp);
  if (released !== undefined && released !== tlp) p.released_tlp = released;
  return p;
}

/** The incoming object as the store sees it: no x_stixgate. */
function prepareIncoming(item: IngestItem): StixObject {
  const obj: StixObject = { ...item.object };
  delete obj.x_stixgate;
  return obj;
}

function objectTlp(obj: StixObject): TlpLevel | undefined {
  const refs = obj.object_marking_refs;
  return Array.isArray(refs) ? tlpOfMarkings(refs.filter((r): r is string => typeof r === 'string')) : undefined;
}

/** What finalize() needs besides the object and its sources. */
interface Finish {
  scoring: Scoring;
  /** Evaluation time of the score. */
  t: number;
  now: number;
  wasExpired: boolean;
  /** The stored object was expired on arrival and has not been active since. */
  neverActive: boolean;
  /** Carried over from the stored object. */
  sightings?: ScoreExtension['sightings'];
  /** The sources that delivered the content `finalize` is given. */
  contentSources: string[];
}

/**
 * Applies the provenance-derived parts: content sources, score (and derived valid_until), expiry
 * flag. `base` is a fresh copy (join() output) whose valid_until is the sources' one.
 */
function finalize(base: StixObject, sources: Record<string, SourceProvenance>, f: Finish): StixObject {
  const obj: StixObject = base;
  const ext: ScoreExtension = { sources, content_sources: f.contentSources };
  if (f.sightings) ext.sightings = f.sightings;
  obj.x_stixgate = ext;
  let expired: boolean;
  if (obj.type === 'indicator') {
    const state = applyScore(obj, f.scoring, f.t);
    expired = state.expiresAtMs <= f.now || stillExpired(f.wasExpired, obj.valid_until, f.now);
  } else {
    expired = stillExpired(f.wasExpired, obj.valid_until, f.now);
  }
  if (expired) ext.expired = true;
  if (expired && f.neverActive) ext.never_active = true;
  return obj;
}

function stillExpired(wasExpired: boolean, validUntil: unknown, now: number): boolean {
  if (!wasExpired) return false;
  if (validUntil === undefined) return false;
  const t = parseTime(validUntil);
  return t === undefined || t <= now;
}

/**
 * Merges one delivery into the stored state of its id. `existing` is the stored object (with its
 * `x_stixgate`) or undefined. `unchanged`/`stale` mean the returned object serialises to exactly
 * the stored JSON (nothing to write).
 */
export function mergeObject(existing: StixObject | undefined, item: IngestItem, ctx: MergeContext): MergeResult {
  const gran = ctx.seenGranularityMs;
  const scoring = ctx.scoring ?? NO_DECAY_SCORING;
  const incoming = prepareIncoming(item);
  const seenMs = parseSeen(item.seenAt) ?? ctx.now;
  const confidence =
    typeof item.confidence === 'number'
      ? item.confidence
      : typeof incoming.confidence === 'number'
        ? incoming.confidence
        : undefined;
  const delivery: Delivery = {
    seenMs,
    confidence,
    labels: stringLabels(incoming.labels),
    tlp: item.tlp ?? objectTlp(incoming),
  };

  if (!existing) {
    const sources: Record<string, SourceProvenance> = {};
    Object.defineProperty(sources, item.source, {
      value: mergeProvenance(undefined, delivery, gran),
      enumerable: true,
      writable: true,
      configurable: true,
    });
    // finalize() by hand: `incoming` is already a fresh copy, so only x_stixgate is added.
    const ext: ScoreExtension = { sources, content_sources: [item.source] };
    incoming.x_stixgate = ext;
    if (incoming.type === 'indicator' && applyScore(incoming, scoring, ctx.now).expiresAtMs <= ctx.now) {
      // already below expire_below when it arrives: stored expired, never published
      ext.expired = true;
      ext.never_active = true;
    }
    return { object: incoming, outcome: 'created' };
  }

  const oldSources = existing.x_stixgate?.sources ?? {};
  const sources: Record<string, SourceProvenance> = { ...oldSources };
  Object.defineProperty(sources, item.source, {
    value: mergeProvenance(
      Object.hasOwn(oldSources, item.source) ? oldSources[item.source] : undefined,
      delivery,
      gran,
    ),
    enumerable: true,
    writable: true,
    configurable: true,
  });

  // Monotone fields joined from both sides.
  const created = earliest(existing.created, incoming.created);
  // an indicator is valid from its earliest sighting: list feeds stamp valid_from with the poll
  // time, and a re-poll must not count as new content
  const validFrom = existing.type === 'indicator' ? earliest(existing.valid_from, incoming.valid_from) : undefined;
  const validUntil = extendValidUntil(sourceValidUntil(existing), incoming.valid_until, gran);
  const revoked = existing.revoked === true || incoming.revoked === true;
  const join = (o: StixObject): StixObject => {
    const j: StixObject = { ...o };
    if (created !== undefined) j.created = created;
    if (validFrom !== undefined) j.valid_from = validFrom;
    if (validUntil === undefined) delete j.valid_until;
    else j.valid_until = validUntil;
    if (revoked) j.revoked = true;
    return j;
  };
  const oldExt = scoreExtension(existing);
  // the score is first evaluated when it last was, so that the passing of time alone is no write
  const scoredAt = typeof oldExt?.scored_at === 'string' ? Date.parse(oldExt.scored_at) : NaN;
  // objects stored before content_sources existed: no source is known to own the content
  const oldOwners = Array.isArray(oldExt?.content_sources) ? oldExt.content_sources : [];
  const f: Finish = {
    scoring,
    t: Number.isNaN(scoredAt) ? ctx.now : scoredAt,
    now: ctx.now,
    wasExpired: oldExt?.expired === true,
    neverActive: oldExt?.expired === true && oldExt.never_active === true,
    ...(oldExt?.sightings ? { sightings: oldExt.sightings } : {}),
    contentSources: oldOwners,
  };

  const order = compareModified(incoming.modified, existing.modified);
  const keptExisting = finalize(join(existing), sources, f);
  let result = keptExisting;
  if (order >= 0) {
    const candidate = finalize(join(incoming), sources, { ...f, contentSources: [item.source] });
    const ck = contentKey(candidate);
    const ek = contentKey(keptExisting);
    // a newer version that revokes is new content even though `revoked: true` is joined onto both
    // sides: its `modified` is when the object was revoked (lookups report it as the end)
    const revokes = order > 0 && incoming.revoked === true && existing.revoked !== true;
    if ((ck !== ek || revokes) && (order > 0 || ck > ek)) result = candidate;
    else if (ck === ek && !oldOwners.includes(item.source)) {
      f.contentSources = [...oldOwners, item.source].sort();
      if (keptExisting.x_stixgate) keptExisting.x_stixgate.content_sources = f.contentSources;
    }
  }
  const json = storedJson(result);
  if (json === (ctx.existingJson ?? storedJson(existing))) {
    return { object: existing, outcome: order < 0 ? 'stale' : 'unchanged' };
  }
  // something changed: the score is brought to now
  if (result.type === 'indicator' && f.t !== ctx.now && typeof result.x_stixgate?.scored_at === 'string') {
    const owners = result.x_stixgate?.content_sources ?? f.contentSources;
    result = finalize(join(result === keptExisting ? existing : incoming), sources, {
      ...f,
      t: ctx.now,
      contentSources: owners,
    });
    return { object: result, outcome: 'updated' };
  }
  return { object: result, outcome: 'updated', json };
}

/** Most ids one `Store.modify` call takes (both backends). */
export const MAX_MODIFY_IDS = 10_000;

/** The distinct ids of a `modify` call; refuses more than MAX_MODIFY_IDS. */
export function modifyIds(ids: readonly string[]): string[] {
  const uniq = [...new Set(ids)];
  if (uniq.length > MAX_MODIFY_IDS) {
    throw new StixgateError(
      'STIXGATE_ERR_STORE_UNAVAILABLE',
      `modify takes at most ${MAX_MODIFY_IDS} ids, got ${uniq.length}`,
      { reason: 'too_many_ids' },
    );
  }
  return uniq;
}
