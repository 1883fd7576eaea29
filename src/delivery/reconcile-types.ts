import type { SinkRecord, SinkRunContext } from './types.js';

/**
 * What a sink that can be read back provides to reconcile (src/delivery/reconcile.ts,
 * docs/reconcile.md): its read API in pages, the entry it would write for a record, and removal of
 * entries it should not hold. Entries on both sides are matched by `key` and compared by `digest`.
 */

/** One entry the product holds, as read through its own read API. */
export interface RemoteEntry {
  /** Identity shared with `expected()`, e.g. the KV `_key`, `<set>\u0000<value>`, the lower-cased XSOAR value. */
  key: string;
  /** The compared projection of the entry's content: equal digests mean the entry is current. */
  digest: string;
  /** Not written by stixgate (another source, tool or analyst): counted and listed, never changed. */
  foreign?: boolean;
  /** What `removeExtra` needs to take the entry out (JSON; it is spilled to disk while sorting). */
  ref: unknown;
  /** For people: where and what, e.g. `ip_intel 1.2.3.4`. Never a secret. */
  label: string;
}

/** The entry the product should hold for a record the push path would send as an upsert. */
export interface ExpectedEntry {
  key: string;
  digest: string;
  label: string;
}

/** Runs one request through the sink's limiter (the same Bottleneck as its pushes). */
export type Schedule = <T>(fn: () => Promise<T>) => Promise<T>;

export interface SinkReconciler {
  /** What is read, for plans and logs: e.g. `KV collection search/stixgate_iocs`. */
  describe(): string;
  /**
   * Reads everything the product holds in the sink's scope, a page at a time (each page one
   * request through `schedule`). Entries may come in any order; reconcile sorts them on disk.
   */
  read(ctx: SinkRunContext, schedule: Schedule): AsyncIterable<RemoteEntry[]>;
  /**
   * The entry the sink's upsert would leave for this record, or undefined when the sink never
   * holds such a record (a type it does not route: the push path rejects it to the dead-letter file).
   */
  expected(record: SinkRecord): ExpectedEntry | undefined;
  /** Takes these entries out (idempotent: an entry already gone is a removal done). */
  removeExtra(entries: RemoteEntry[], ctx: SinkRunContext, schedule: Schedule): Promise<void>;
  /**
   * Whether a held entry is current for an expected one, when digest equality is too strict (a
   * product that merges several sources into one entry); default: equal digests.
   */
  same?(remoteDigest: string, expectedDigest: string): boolean;
  /**
   * For a product whose read is filtered to stixgate's contribution (XSOAR): how many entries
   * outside it the product holds. They are counted as foreign, never read one by one.
   */
  foreignCount?(ctx: SinkRunContext, schedule: Schedule): Promise<number>;
}

/** Digest helper: a canonical JSON of a projection (keys sorted, undefined left out). */
export function digestOf(value: unknown): string {
  return JSON.stringify(canonical(value));
}

function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) {
      const x = (v as Record<string, unknown>)[k];
      if (x !== undefined) out[k] = canonical(x);
    }
    return out;
  }
  return v;
}
