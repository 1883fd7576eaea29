import { StixgateError, type ErrorCode, type Location, type Rejection } from '../../core/errors.js';
import { isRecord } from '../../core/guards.js';
import type { StixObject, TlpLevel } from '../../core/stix.js';
import type { IngestItem } from '../contract.js';

/** Methods of the embedded store the writer thread answers (ThreadedStore → store-thread). */
export const THREAD_METHODS = [
  'ping',
  'upsert',
  'get',
  'getEntry',
  'getMany',
  'query',
  'storedJsonOf',
  'applyModified',
  'expire',
  'purge',
  'changeRows',
  'head',
  'getCursor',
  'setCursor',
  'commitDeliveries',
  'deliveries',
  'scoreHistory',
  'acquireLease',
  'releaseLease',
  'stats',
  'indexEntries',
  'activeIndicators',
  'keyIndexStats',
  'hotCacheEntries',
  'close',
] as const;
export type ThreadMethod = (typeof THREAD_METHODS)[number];

/**
 * An upsert item on the wire: its object as JSON text (a string crosses threads far cheaper than
 * an object graph, and the writer takes its fingerprint from it), then source, seenAt, confidence
 * and TLP.
 */
export type WireItem = [
  json: string,
  source: string,
  seenAt: string | undefined,
  confidence: number | undefined,
  tlp: TlpLevel | undefined,
];

/** Values canonical JSON refuses (JSON.stringify would drop or turn them into null): the same messages. */
function strictValue(_key: string, v: unknown): unknown {
  switch (typeof v) {
    case 'number':
      if (!Number.isFinite(v)) throw new TypeError(`canonicalize: ${v} has no JSON form`);
      return v;
    case 'bigint':
    case 'function':
    case 'symbol':
      throw new TypeError(`canonicalize: a ${typeof v} has no JSON form`);
    default:
      return v;
  }
}

/**
 * Items as sent to the writer. An object with a value that has no JSON form is rejected here, as
 * the store would reject it.
 */
export function encodeItems(items: readonly IngestItem[], rejected: Rejection[]): WireItem[] {
  const out: WireItem[] = [];
  for (const it of items) {
    // not an item, or no object: sent as null for the writer to reject as the store does
    if (!it || typeof it !== 'object') {
      out.push(['null', '', undefined, undefined, undefined]);
      continue;
    }
    let json: string | undefined;
    try {
      // cast: JSON.stringify answers undefined for a value with no JSON form, which its typings omit
      json = JSON.stringify(it.object, strictValue) as string | undefined;
    } catch (e) {
      if (!(e instanceof TypeError)) throw e;
      const o: unknown = it.object;
      const id = String(isRecord(o) ? o.id : undefined);
      rejected.push({
        reason: 'stix_invalid',
        message: `object ${id} is not serialisable: ${e.message}`,
        location: { source: it.source, objectId: id },
      });
      continue;
    }
    out.push([json ?? 'null', it.source, it.seenAt, it.confidence, it.tlp]);
  }
  return out;
}

/** The writer's side: the items and the JSON each object was read from. */
export function decodeItems(wire: readonly WireItem[], items: IngestItem[], json: string[]): void {
  for (const [text, source, seenAt, confidence, tlp] of wire) {
    // cast: the writer checks every item as the store does (checkIngestItem), a non-object included
    const item: IngestItem = { object: JSON.parse(text) as StixObject, source };
    if (seenAt !== undefined) item.seenAt = seenAt;
    if (confidence !== undefined) item.confidence = confidence;
    if (tlp !== undefined) item.tlp = tlp;
    items.push(item);
    json.push(text);
  }
}

/**
 * A call. `part` carries a slice of an upsert's items: the writer collects the slices of call `id`
 * and runs the upsert when the call itself (with the last slice) arrives.
 */
export type ThreadCall = { id: number; method: ThreadMethod; args: unknown[] } | { id: number; part: WireItem[] };

export type ThreadReply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: EncodedError };

export interface EncodedError {
  name: string;
  message: string;
  stixgate?: { code: ErrorCode; reason: string; retryable: boolean; retryAfterMs?: number; location?: Location };
}

export function encodeError(e: unknown): EncodedError {
  if (e instanceof StixgateError) {
    return {
      name: e.name,
      message: e.message,
      stixgate: {
        code: e.code,
        reason: e.reason,
        retryable: e.retryable,
        ...(e.retryAfterMs !== undefined ? { retryAfterMs: e.retryAfterMs } : {}),
        ...(e.location ? { location: e.location } : {}),
      },
    };
  }
  if (e instanceof Error) return { name: e.name, message: e.message };
  return { name: 'Error', message: String(e) };
}

/** The error as the caller's thread sees it: a StixgateError keeps its code, reason and location. */
export function decodeError(e: EncodedError): Error {
  if (e.stixgate) {
    const s = e.stixgate;
    // the message already names the location: it is set after construction, not formatted again
    const err = new StixgateError(s.code, e.message, {
      reason: s.reason,
      retryable: s.retryable,
      retryAfterMs: s.retryAfterMs,
    });
    if (s.location) Object.assign(err, { location: s.location });
    return err;
  }
  const Ctor = e.name === 'TypeError' ? TypeError : e.name === 'RangeError' ? RangeError : Error;
  const err = new Ctor(e.message);
  if (err.name !== e.name) err.name = e.name;
  return err;
}
