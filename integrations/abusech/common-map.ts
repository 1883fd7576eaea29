import type { Location, Rejection } from '../../src/core/errors.js';
import { wellFormed } from '../../src/core/unicode.js';
import { indicatorFromObservable } from '../../src/core/indicator.js';
import { normaliseObservable } from '../../src/core/observable.js';
import type { ExternalReference, HashAlgorithm, Indicator, ObservableType, StixObject } from '../../src/core/stix.js';
import type { MappedItem } from '../../src/pipeline/types.js';
import { indicates, malwareFamily } from '../../src/formats/reference-sdo.js';
import { addDays } from '../../src/formats/api-time.js';
import type { MappedRecord } from '../../src/formats/time-window.js';
import { parseApiTime } from '../../src/formats/api-time.js';
import { isRecord } from '../../src/core/guards.js';

/** What a mapper needs besides the record: injected time and the source's `valid_days`. */
export interface MapEnv {
  /** RFC 3339, the run's clock; used only when a record has no time of its own. */
  now: string;
  validDays?: number;
  source: string;
}

export interface FeedIndicatorSpec {
  type: ObservableType;
  value: string;
  hash?: HashAlgorithm;
  firstSeen?: string;
  lastSeen?: string;
  description?: string;
  labels: string[];
  confidence?: number;
  refs: ExternalReference[];
  malware?: (string | undefined)[];
  location: Location;
}

export function reject(reason: string, message: string, location: Location): MappedRecord {
  return { items: [], rejection: { reason, message, location } as Rejection };
}

/**
 * One feed record → an indicator (id from its canonical pattern, so the API and CSV paths of a
 * feed and other feeds naming the same value meet), plus the malware families it indicates.
 * created/valid_from = first seen, modified = last seen; valid_until = last seen + `valid_days`.
 */
export function feedRecord(spec: FeedIndicatorSpec, env: MapEnv): MappedRecord {
  const n = normaliseObservable(spec.type, spec.value);
  if (!n.ok) return reject(n.reason, n.message, spec.location);
  if (spec.hash && n.observable.hash !== spec.hash)
    return reject('invalid_hash', `expected a ${spec.hash} hash`, spec.location);
  const first = spec.firstSeen ?? env.now;
  const last = spec.lastSeen && spec.lastSeen > first ? spec.lastSeen : first;
  const ind: Indicator = indicatorFromObservable(n.observable, {
    now: first,
    validFrom: first,
    validUntil: env.validDays !== undefined ? addDays(last, env.validDays) : undefined,
    description: spec.description,
    labels: spec.labels,
    confidence: spec.confidence,
    externalReferences: spec.refs,
  });
  ind.modified = last;
  const items: MappedItem[] = [{ object: ind, confidence: spec.confidence, seenAt: last }];
  const seen = new Set<string>();
  for (const name of spec.malware ?? []) {
    const mal = name ? malwareFamily(name) : undefined;
    if (!mal || seen.has(mal.id)) continue;
    seen.add(mal.id);
    items.push({ object: mal }, { object: indicates(ind, mal) as StixObject });
  }
  return { items, time: Date.parse(last) };
}

/** A non-empty trimmed string field, cut at `max` and made well-formed UTF-16 (a cut or a feed can leave a lone surrogate). */
export function str(v: unknown, max = 10_000): string | undefined {
  return typeof v === 'string' && v.trim() !== '' ? wellFormed(v.trim().slice(0, max)) : undefined;
}

/** A feed record as an object, or undefined when it is not one. */
export const asObject = (rec: unknown): Record<string, unknown> | undefined => (isRecord(rec) ? rec : undefined);

/** A feed record opened: the object, the value it is about and where it stands in the feed. */
export interface OpenedRecord {
  r: Record<string, unknown>;
  value: string;
  location: Location;
}

/**
 * A record as an object with its value (`field`, a non-empty string, cut at `max`), or the
 * rejection naming what is wrong: `not_object`, or `missing_value` naming the field.
 */
export function openRecord(
  rec: unknown,
  index: number,
  env: MapEnv,
  what: string,
  field: string,
  max: number,
): OpenedRecord | { rejected: MappedRecord } {
  const location = { source: env.source, index };
  const r = asObject(rec);
  if (!r) return { rejected: reject('not_object', `${what} is not a JSON object`, location) };
  const value = str(r[field], max);
  if (!value) return { rejected: reject('missing_value', `${what} has no ${field}`, location) };
  return { r, value, location };
}

/** A MalwareBazaar sample's or ThreatFox IOC's newest time (`first_seen` or `last_seen`), epoch ms. */
export function newestSeen(rec: unknown): number | undefined {
  const r = asObject(rec);
  if (!r) return undefined;
  const ts = [parseApiTime(r.first_seen), parseApiTime(r.last_seen)]
    .filter((x): x is string => x !== undefined)
    .map(Date.parse);
  return ts.length ? Math.max(...ts) : undefined;
}
