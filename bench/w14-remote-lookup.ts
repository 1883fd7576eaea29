/**
 * W14, the lookup API's path on the OpenSearch store (docs/adr/0024-remote-lookups.md): what
 * `GET /api/v1/lookup` calls per value (RemoteLookup.lookupMany) behind the negative filter and the
 * hot cache, one lookup at a time (the path's own latency, hits and misses apart) and at a fixed
 * offered rate (open loop: each lookup's latency counts from when it was due, so a stall is not
 * hidden), half hits and half misses; the share of misses answered without a
 * round trip; the filter's build and snapshot restore; and the heap the lookups hold per instance
 * against the in-memory LookupIndex built from the same store, at two store sizes (scale 1: 100k
 * and 1M indicators, plus 0.1% CIDRs of three prefix lengths).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildIndex } from '../src/lookup/build.js';
import { FilterKeeper } from '../src/lookup/remote/filter-keeper.js';
import { readFilterSnapshot, writeFilterSnapshot } from '../src/lookup/remote/filter-snapshot.js';
import { RemoteLookup } from '../src/lookup/remote/remote-lookup.js';
import { candidateValues } from '../src/lookup/remote/candidates.js';
import { NegativeFilter } from '../src/lookup/remote/negative-filter.js';
import { detectObservable } from '../src/core/observable.js';
import type { IngestItem } from '../src/store/contract.js';
import { OpenSearchStore } from '../src/store/opensearch/index.js';
import { createLogger } from '../src/telemetry/logger.js';
import { RUN_NOW } from './clock.js';
import { percentile, prng, round, syntheticValue, type Row } from './lib.js';
import { indicator, options } from './w14-opensearch.js';

const SHAPE = { capacity: 10_000_000, fpRate: 0.001 };
const CIDR_LENGTHS = [16, 20, 24];

/** Heap plus array buffers (the filter's bits and the index's columns live outside the heap). */
function heapMb(): number {
  (globalThis as { gc?: () => void }).gc?.();
  const m = process.memoryUsage();
  return (m.heapUsed + m.arrayBuffers) / 1048576;
}

async function fill(store: OpenSearchStore, n: number): Promise<void> {
  for (let start = 0; start < n; start += 5000) {
    const items: IngestItem[] = [];
    for (let i = start; i < Math.min(n, start + 5000); i++) items.push({ object: indicator(i), source: 'w14' });
    // one CIDR per thousand indicators, /16, /20 or /24
    for (let i = start; i < Math.min(n, start + 5000); i += 1000) {
      const o = indicator(50_000_000 + i);
      const len = CIDR_LENGTHS[(i / 1000) % CIDR_LENGTHS.length] ?? 24;
      o.pattern = `[ipv4-addr:value = '${100 + ((i >> 16) & 63)}.${(i >> 8) & 255}.0.0/${len}']`;
      items.push({ object: o, source: 'w14' });
    }
    const r = await store.upsert(items, { now: RUN_NOW });
    if (r.rejected.length > 0) throw new Error(`W14 lookups: ${r.rejected.length} rejected`);
  }
}

/** A value no indicator lists (mostly): addresses outside the CIDRs, unknown hosts, URLs and hashes. */
function missValue(q: number): string {
  const v = syntheticValue(q + 900_000_000, 77);
  return v.type === 'domain-name' ? `q${q}.${v.value}` : v.type === 'ipv4-addr' ? `${v.value}` : v.value;
}

/** `count` lookups one after the other (half hits, never cached: each hit value once), hits and misses apart. */
async function closedLoop(
  remote: RemoteLookup,
  n: number,
  count: number,
): Promise<{ hit: Float64Array; miss: Float64Array }> {
  const hit = new Float64Array(count / 2);
  const miss = new Float64Array(count / 2);
  for (let k = 0; k < count / 2; k++) {
    let t = performance.now();
    await remote.lookup(syntheticValue(Math.floor((k * n) / (count / 2)), 14).value, RUN_NOW, 'red');
    hit[k] = performance.now() - t;
    t = performance.now();
    await remote.lookup(missValue(10_000_000 + k), RUN_NOW, 'red');
    miss[k] = performance.now() - t;
  }
  return { hit: hit.sort(), miss: miss.sort() };
}

/** Lookups at `rate`/s for `seconds`, open loop; latencies from each lookup's due time. */
async function openLoop(
  remote: RemoteLookup,
  n: number,
  rate: number,
  seconds: number,
): Promise<{ lat: Float64Array; hits: number; misses: number; missTrips: number; secs: number }> {
  const total = Math.round(rate * seconds);
  const lat = new Float64Array(total);
  const r = prng(4242);
  let hits = 0;
  let misses = 0;
  let missTrips = 0;
  const t0 = performance.now();
  const pending: Promise<void>[] = [];
  for (let k = 0; k < total; k++) {
    const due = t0 + (k * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((res) => setTimeout(res, wait));
    const hit = k % 2 === 0;
    const value = hit ? syntheticValue(Math.floor(r() * n), 14).value : missValue(k);
    // the filter and the cache answer in lookup()'s synchronous part: a miss that did not ask the store shows at once
    const local = remote.counters.filtered + remote.counters.cached;
    const asked = remote.lookup(value, RUN_NOW, 'red');
    if (!hit && remote.counters.filtered + remote.counters.cached === local) missTrips++;
    pending.push(
      asked.then((res) => {
        lat[k] = performance.now() - due;
        if (res.matched) hits++;
        else misses++;
      }),
    );
  }
  await Promise.all(pending);
  return { lat: lat.sort(), hits, misses, missTrips, secs: (performance.now() - t0) / 1000 };
}

async function oneSize(node: string, n: number, rate: number, seconds: number, embedded: boolean): Promise<Row[]> {
  const store = new OpenSearchStore(options(node, `stixgate-w14l-${Date.now().toString(36)}-${n}`, 5000, '30s'));
  await store.open();
  const dir = mkdtempSync(join(tmpdir(), 'stixgate-w14l-'));
  const rows: Row[] = [];
  try {
    await fill(store, n);
    await store.head();
    const h0 = heapMb();
    const remote = new RemoteLookup(store, { now: () => RUN_NOW, cacheBytes: 64 << 20 });
    const keeper = new FilterKeeper({
      dataDir: dir,
      store,
      shape: SHAPE,
      logger: createLogger({ level: 'silent' }),
      intervalMs: 0,
    });
    let t = performance.now();
    await keeper.open(remote);
    await keeper.building;
    const buildSecs = (performance.now() - t) / 1000;
    const filter = remote.filter;
    if (!filter) throw new Error('W14 lookups: the filter was not built');
    const path = join(dir, 'lookup-filter.snapshot');
    await writeFilterSnapshot(path, filter, remote.seq, await keeper.storeId());
    t = performance.now();
    await readFilterSnapshot(path, { store: await keeper.storeId(), shape: SHAPE });
    const restoreSecs = (performance.now() - t) / 1000;
    await remote.lookup('198.51.100.1', RUN_NOW, 'red'); // warm-up
    const closed = await closedLoop(remote, n, 1000);
    rows.push({
      workload: 'W14',
      what: `lookup API path, one lookup at a time (closed loop), ${n} indicators, 50% misses`,
      items: closed.hit.length + closed.miss.length,
      p50_ms: round(percentile(closed.hit, 50), 3),
      p99_ms: round(percentile(closed.hit, 99), 3),
      target: 'p99 ≤ 5 ms (#20)',
      ratio: `misses p50 ${round(percentile(closed.miss, 50), 3)} ms, p99 ${round(percentile(closed.miss, 99), 3)} ms (p50/p99 columns: hits, one terms query each)`,
      note: 'latency of the path without queueing: the HTTP layer is not included',
    });
    const run = await openLoop(remote, n, rate, seconds);
    const heapRemote = heapMb() - h0;
    const offeredMisses = Math.floor(run.lat.length / 2);
    const missShare = 1 - run.missTrips / offeredMisses;
    rows.push({
      workload: 'W14',
      what: `lookup API path (remote lookups: filter + cache + terms query), ${n} indicators, ${rate}/s offered, 50% misses`,
      items: run.lat.length,
      seconds: round(run.secs),
      rate: Math.round(run.lat.length / run.secs),
      p50_ms: round(percentile(run.lat, 50), 2),
      p99_ms: round(percentile(run.lat, 99), 2),
      target: 'p99 ≤ 5 ms at 5k/s per instance (#20); ≥ 95% of misses without a round trip',
      ratio: `${round(missShare * 100, 1)}% of misses answered by the filter alone`,
      note: `${run.hits} hits; ${remote.counters.roundTrips} store requests carrying ${remote.batcher.carried} lookups; cache ${remote.cache.hits} hits / ${remote.cache.misses} misses; filter ${filter.added} values, expected FP ${round(filter.expectedFpRate() * 100, 3)}% per value`,
    });
    rows.push({
      workload: 'W14',
      what: `lookup filter at ${n} indicators: built from the store, snapshot read`,
      items: filter.added,
      seconds: round(buildSecs),
      ratio: `snapshot read ${round(restoreSecs, 3)} s vs build ${round(buildSecs, 2)} s`,
      note: `filter ${round(filter.bytes / 1048576, 1)} MB (capacity ${SHAPE.capacity}, ${SHAPE.fpRate} FP), fixed whatever the store's size`,
    });
    let embeddedNote = 'in-memory index not built at this size (it reads the whole store)';
    if (embedded) {
      const h1 = heapMb();
      t = performance.now();
      const { index } = await buildIndex(store, { now: () => RUN_NOW });
      const secs = (performance.now() - t) / 1000;
      const heapIndex = heapMb() - h1;
      embeddedNote = `in-memory LookupIndex of the same store: ${round(heapIndex, 1)} MB heap + buffers, built in ${round(secs, 1)} s (${index.size} indicators)`;
    }
    rows.push({
      workload: 'W14',
      what: `lookup memory per instance at ${n} indicators (heap held by the remote lookups, cache filled)`,
      items: n,
      peak_rss_mb: Math.round(process.memoryUsage().rss / 1048576),
      ratio: `remote lookups ${round(heapRemote, 1)} MB heap + buffers (filter ${round(filter.bytes / 1048576, 1)} MB + cache ${round(remote.cache.bytes / 1048576, 1)} MB)`,
      note: embeddedNote,
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await store.destroy();
    await store.close();
  }
  return rows;
}

/**
 * The filter at its capacity (the worst case of its configured shape): filled with `capacity`
 * synthetic listed values (0.1% of them CIDRs of three lengths), then the share of absent values of
 * every kind whose candidates it rules out entirely: the misses answered without a round trip.
 */
export function filterAtCapacity(capacity: number): Row {
  const f = new NegativeFilter({ capacity, fpRate: SHAPE.fpRate });
  for (let i = 0; i < capacity; i++) {
    const v = syntheticValue(i, 14);
    f.add(v.type, v.value);
    if (i % 1000 === 0)
      f.add('ipv4-addr', `${100 + ((i >> 16) & 63)}.${(i >> 8) & 255}.0.0/${CIDR_LENGTHS[(i / 1000) % 3]}`);
  }
  const probes = 200_000;
  let ruledOut = 0;
  let tested = 0;
  for (let q = 0; q < probes; q++) {
    const d = detectObservable(missValue(q));
    if (!d.ok) continue;
    const values = candidateValues(d.observable, true, f);
    tested += values.length;
    if (!values.some((v) => f.mightHave(v))) ruledOut++;
  }
  return {
    workload: 'W14',
    what: `lookup filter at capacity (${capacity} values, fp_rate ${SHAPE.fpRate}): absent values ruled out`,
    items: probes,
    target: '≥ 95% of misses without a round trip (#20)',
    ratio: `${round((ruledOut / probes) * 100, 2)}% of misses answered by the filter alone`,
    note: `${round(tested / probes, 2)} listed values tested per lookup; expected FP ${round(f.expectedFpRate() * 100, 3)}% per value; ${round(f.bytes / 1048576, 1)} MB`,
  };
}

/** The rows at two store sizes (scale 1: 100k and 1M indicators). */
export async function runRemoteLookups(node: string, scale: number): Promise<Row[]> {
  const small = Math.max(10_000, Math.round(100_000 * scale));
  const large = Math.max(20_000, Math.round(1_000_000 * scale));
  const rate = Number(process.env.STIXGATE_W14_LOOKUP_RATE ?? 2000);
  const seconds = Math.max(3, Math.round(20 * scale));
  return [
    filterAtCapacity(Math.max(100_000, Math.round(1_000_000 * scale))),
    ...(await oneSize(node, small, rate, seconds, true)),
    ...(await oneSize(node, large, rate, seconds, large <= 200_000)),
  ];
}
