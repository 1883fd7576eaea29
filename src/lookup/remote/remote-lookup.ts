import { detectObservable } from '../../core/observable.js';
import { indicatorObservables } from '../../core/object-observables.js';
import type { Observable, TlpLevel } from '../../core/stix.js';
import { at, first } from '../../core/indexed.js';
import type { Change } from '../../store/contract.js';
import type { Metrics } from '../../telemetry/metrics.js';
import { fastCanonical } from '../collector.js';
import { LookupIndex } from '../lookup-index.js';
import type { IndexSizes, LookupIndexOptions, LookupResult } from '../types.js';
import { candidateValues } from './candidates.js';
import { FetchBatcher, type Fetched } from './fetch-batcher.js';
import { HotCache } from './hot-cache.js';
import type { NegativeFilter } from './negative-filter.js';
import type { Candidate, CandidateSource } from './source.js';

export interface RemoteLookupOptions extends LookupIndexOptions {
  now?: () => number;
  /** Bytes the hot cache may hold (the fetched indicators' JSON plus overhead). */
  cacheBytes: number;
  /** Store requests in flight at once; lookups arriving meanwhile share the next one (default 4). */
  maxInflight?: number;
  /** Most indicators fetched per looked-up value (a value listed by more is answered from the first, in change-log order). */
  fetchLimit?: number;
  /** Where the filter, cache and store-request series go (docs/metrics.md). */
  metrics?: Metrics;
}

/** What the remote lookups have done since start (metrics and the benchmark). */
export interface RemoteLookupCounters {
  /** Valid values looked up. */
  values: number;
  /** Values answered "no match" by the filter alone (no candidate passed it). */
  filtered: number;
  /** Values whose candidates were all in the hot cache. */
  cached: number;
  /** Requests to the store. */
  roundTrips: number;
}

const EMPTY: readonly Candidate[] = [];

/**
 * Lookups answered from the store (docs/adr/0024-remote-lookups.md) with the embedded lookup's
 * answers: each looked-up value's candidate listed values (candidates.ts) pass the negative filter;
 * those that may be listed are read from the hot cache or fetched from the store in one request,
 * and the value is looked up in a small LookupIndex holding just the fetched indicators, so matching,
 * TLP views, expiry and the answer's shape are the embedded index's own code. Kept current from the
 * change log by an IndexFollower (apply()): new values enter the filter, changed indicators leave
 * the cache. Without a filter (still building, or none configured) every candidate is fetched.
 */
export class RemoteLookup {
  /** The change-log sequence of the last change applied. */
  seq = 0;
  /** The filter in use; undefined while it is built (every lookup asks the store meanwhile). */
  filter?: NegativeFilter;
  /** A filter being built from the store: changes applied meanwhile go into it too. */
  private pending?: NegativeFilter;
  readonly cache: HotCache;
  readonly counters: RemoteLookupCounters = { values: 0, filtered: 0, cached: 0, roundTrips: 0 };
  /** Bumped by every indicator change: a fetch that overlapped one is not cached. */
  private epoch = 0;
  private readonly empty: LookupIndex;
  private readonly clock: () => number;
  private readonly matchParents: boolean;
  private readonly fetchLimit: number;
  readonly batcher: FetchBatcher<Candidate>;
  /** Called after an indicator change reached the filter (the FilterKeeper decides on a rebuild). */
  onFilterChange?: () => void;
  private readonly metrics?: Metrics;

  constructor(
    private readonly source: CandidateSource,
    private readonly opts: RemoteLookupOptions,
  ) {
    this.clock = opts.now ?? Date.now;
    this.metrics = opts.metrics;
    this.matchParents = opts.matchParentDomains ?? true;
    this.fetchLimit = opts.fetchLimit ?? 1000;
    this.cache = new HotCache(opts.cacheBytes);
    this.batcher = new FetchBatcher((values, limit) => this.fetch(values, limit), opts.maxInflight ?? 4);
    this.empty = new LookupIndex({ ...opts, initialSlots: 1 });
  }

  /** Starts filling `filter` (from the store, by the caller); changes applied meanwhile go into it too. */
  building(filter: NegativeFilter): void {
    this.pending = filter;
  }

  /** The filter the caller finished building (building()) takes over. */
  built(filter: NegativeFilter): void {
    if (this.pending === filter) this.pending = undefined;
    this.filter = filter;
  }

  async lookup(raw: string, now: number = this.clock(), maxTlp: TlpLevel = 'amber'): Promise<LookupResult> {
    return first(await this.lookupMany([raw], now, maxTlp));
  }

  /**
   * Looks values up (one store request at most for all of them, shared with concurrent lookups:
   * FetchBatcher); answers in input order. The filter and the cache are consulted before the first
   * `await`, so a value they answer never waits for the store.
   */
  async lookupMany(
    raws: readonly string[],
    now: number = this.clock(),
    maxTlp: TlpLevel = 'amber',
  ): Promise<LookupResult[]> {
    const filter = this.filter;
    const m = this.metrics;
    const probes: (string[] | undefined)[] = new Array(raws.length);
    const wanted = new Map<string, readonly Candidate[] | undefined>();
    for (let i = 0; i < raws.length; i++) {
      const obs = canonical(at(raws, i));
      if (obs === undefined) continue;
      this.counters.values++;
      const values = candidateValues(obs, this.matchParents, filter).filter((v) => !filter || filter.mightHave(v));
      if (values.length === 0) {
        this.counters.filtered++;
        m?.filterAnswers.inc({ answer: 'miss' });
        continue;
      }
      m?.filterAnswers.inc({ answer: filter ? 'passed' : 'unfiltered' });
      probes[i] = values;
      let allCached = true;
      for (const v of values) {
        if (!wanted.has(v)) {
          const hit = this.cache.get(v);
          wanted.set(v, hit);
          m?.lookupCache.inc({ result: hit === undefined ? 'miss' : 'hit' });
        }
        if (wanted.get(v) === undefined) allCached = false;
      }
      if (allCached) this.counters.cached++;
    }
    const missing = [...wanted].filter(([, hit]) => hit === undefined).map(([v]) => v);
    if (missing.length > 0) {
      const fetched = await this.batcher.get(missing, this.fetchLimit * probes.filter(Boolean).length);
      for (const v of missing) wanted.set(v, fetched.get(v) ?? EMPTY);
    }
    const out = new Array<LookupResult>(raws.length);
    for (let i = 0; i < raws.length; i++) {
      const raw = at(raws, i);
      const values = probes[i];
      out[i] = values ? this.answer(raw, values, wanted, now, maxTlp) : this.empty.lookup(raw, now, maxTlp);
    }
    return out;
  }

  /** Fetches the indicators listing `values` and caches each value's list (unless a change overlapped). */
  private async fetch(values: string[], limit: number): Promise<Fetched<Candidate>> {
    const epoch = this.epoch;
    this.counters.roundTrips++;
    const t0 = performance.now();
    let found: Candidate[];
    try {
      found = await this.source.candidates(values, limit);
    } catch (e) {
      this.metrics?.lookupStoreRequests.inc({ outcome: 'error' });
      throw e;
    }
    this.metrics?.lookupStoreRequests.inc({ outcome: 'ok' });
    this.metrics?.lookupStoreDuration.observe((performance.now() - t0) / 1000);
    const lists = new Map<string, Candidate[]>();
    for (const v of values) lists.set(v, []);
    for (const c of found)
      for (const o of c.observables ?? []) {
        const list = lists.get(o.value);
        if (list && list.at(-1) !== c) list.push(c);
      }
    const out: Fetched<Candidate> = new Map();
    const cache = epoch === this.epoch;
    for (const [v, list] of lists) {
      const l = list.length === 0 ? EMPTY : list;
      out.set(v, l);
      if (cache) this.cache.set(v, l);
    }
    return out;
  }

  /** The value looked up among the indicators listing its candidates: the embedded index's answer. */
  private answer(
    raw: string,
    values: readonly string[],
    lists: Map<string, readonly Candidate[] | undefined>,
    now: number,
    maxTlp: TlpLevel,
  ): LookupResult {
    const byId = new Map<string, Candidate>();
    for (const v of values) for (const c of lists.get(v) ?? EMPTY) byId.set(c.id, c);
    if (byId.size === 0) return this.empty.lookup(raw, now, maxTlp);
    const index = new LookupIndex({ ...this.opts, now: () => now, initialSlots: byId.size });
    // change-log order, as the embedded index lists them
    for (const c of [...byId.values()].sort((a, b) => a.seq - b.seq)) index.load(c);
    return index.lookup(raw, now, maxTlp);
  }

  /** Applies one change-log entry: an active indicator's values enter the filter; the cache forgets the indicator. */
  apply(change: Change): void {
    if (change.seq > this.seq) this.seq = change.seq;
    if (change.type !== 'indicator') return;
    this.epoch++;
    const obs = indicatorObservables(change.object);
    for (const f of [this.filter, this.pending]) {
      if (!f) continue;
      if (change.op === 'upsert') for (const o of obs) f.add(o.type, o.value);
      else f.stale += obs.length;
    }
    this.cache.invalidate(
      change.id,
      obs.map((o) => o.value),
    );
    if (this.filter) this.onFilterChange?.();
  }

  /** The filter and cache gauges (stixgate_lookup_filter_*, stixgate_lookup_cache_*); no per-kind index entries. */
  publishMetrics(m: Metrics): void {
    m.lookupCacheEntries.set(this.cache.size);
    m.lookupCacheBytes.set(this.cache.bytes);
    const f = this.filter;
    if (!f) return;
    m.filterValues.set(f.added);
    m.filterCapacity.set(f.shape.capacity);
    m.filterFpRate.set(f.expectedFpRate());
    m.filterStale.set(f.stale);
  }

  /** Adds the values an indicator's change lists to `filter` (a build from the change log). */
  addListed(filter: NegativeFilter, change: Change): void {
    for (const o of indicatorObservables(change.object)) filter.add(o.type, o.value);
  }

  /** Expiry is judged per lookup (the fetched indicators' `valid_until`): nothing to sweep. */
  sweep(): number {
    return 0;
  }

  /** Nothing is held per indicator (publishMetrics reports the filter instead): all zeros. */
  sizes(): IndexSizes {
    return {
      indicators: 0,
      ipv4: 0,
      ipv6: 0,
      ipv4_cidr: 0,
      ipv6_cidr: 0,
      domain: 0,
      url: 0,
      email: 0,
      hash: 0,
      x509: 0,
    };
  }
}

/** The canonical observable of a raw value (the embedded lookup's normalisation), undefined when invalid. */
function canonical(raw: string): Observable | undefined {
  const fast = fastCanonical(raw);
  if (fast) return fast;
  const d = detectObservable(raw);
  return d.ok ? d.observable : undefined;
}
