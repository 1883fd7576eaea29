/**
 * The remote lookups' metrics (filter answers, store round trips, hot cache, filter fill and stale
 * values) and the filter's rebuild when it goes stale, checked by counts against an in-test
 * candidate source and a real embedded store.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { IndexFollower, LookupIndex, publishIndexMetrics } from '../../src/lookup/index.js';
import { FilterKeeper } from '../../src/lookup/remote/filter-keeper.js';
import { NegativeFilter } from '../../src/lookup/remote/negative-filter.js';
import { RemoteLookup } from '../../src/lookup/remote/remote-lookup.js';
import type { Candidate, CandidateSource } from '../../src/lookup/remote/source.js';
import { EmbeddedStore } from '../../src/store/embedded/store.js';
import { createLogger } from '../../src/telemetry/logger.js';
import { Metrics } from '../../src/telemetry/metrics.js';
import { must } from '../helpers/must.js';
import type { Indicator } from '../../src/core/stix.js';
import type { IngestItem } from '../../src/store/contract.js';
import { T0, indicator } from './fixtures.js';
import { MemoryCandidates } from './remote-fixture.js';

/** The value of one series (a histogram's `_count` with `suffix`), undefined when it does not exist. */
async function series(
  m: Metrics,
  name: string,
  labels: Record<string, string> = {},
  suffix = '',
): Promise<number | undefined> {
  const metric = m.registry.getSingleMetric(name);
  assert.ok(metric, `${name} is registered`);
  const got = await metric.get();
  const want = Object.entries(labels);
  const v = got.values.find(
    (s) =>
      (suffix === '' || (s as { metricName?: string }).metricName === `${name}${suffix}`) &&
      want.every(([k, x]) => s.labels[k] === x) &&
      Object.keys(s.labels).filter((k) => k !== 'le').length === want.length,
  );
  return v?.value;
}

function remoteOf(source: CandidateSource, metrics: Metrics): RemoteLookup {
  return new RemoteLookup(source, { now: () => T0, cacheBytes: 1 << 20, metrics });
}

test('filter answers, store round trips with their latency, and cache hits and misses are counted', async () => {
  const metrics = new Metrics({ defaults: false });
  const source = new MemoryCandidates();
  const remote = remoteOf(source, metrics);
  remote.built(new NegativeFilter({ capacity: 1000, fpRate: 0.001 }));
  for (let i = 1; i <= 20; i++)
    remote.apply(source.push(indicator({ n: i, pattern: `[ipv4-addr:value = '198.51.100.${i}']` })));

  // a listed value: passed by the filter, a cache miss, one round trip
  assert.equal((await remote.lookup('198.51.100.7', T0, 'red')).matched, true);
  // again: passed, answered from the cache, no round trip
  assert.equal((await remote.lookup('198.51.100.7', T0, 'red')).matched, true);
  // absent values: the filter answers without a round trip (each is one value, one candidate)
  const absent = ['192.0.2.1', '192.0.2.2', '192.0.2.3'];
  for (const v of absent) assert.equal((await remote.lookup(v, T0, 'red')).matched, false);

  const passed = remote.counters.values - remote.counters.filtered;
  assert.equal(
    await series(metrics, 'stixgate_lookup_filter_answers_total', { answer: 'miss' }),
    remote.counters.filtered,
  );
  assert.equal(remote.counters.filtered, 3, 'the three absent values were ruled out by the filter');
  assert.equal(await series(metrics, 'stixgate_lookup_filter_answers_total', { answer: 'passed' }), passed);
  assert.equal(passed, 2);
  assert.equal(await series(metrics, 'stixgate_lookup_store_requests_total', { outcome: 'ok' }), 1);
  assert.equal(source.calls, 1);
  assert.equal(await series(metrics, 'stixgate_lookup_store_request_duration_seconds', {}, '_count'), 1);
  assert.equal(await series(metrics, 'stixgate_lookup_cache_requests_total', { result: 'miss' }), 1);
  assert.equal(await series(metrics, 'stixgate_lookup_cache_requests_total', { result: 'hit' }), 1);
});

test('without a filter (still building) every value is counted as unfiltered; a failed round trip as an error', async () => {
  const metrics = new Metrics({ defaults: false });
  const failing: CandidateSource = {
    candidates: async (): Promise<Candidate[]> => {
      throw new Error('node down');
    },
  };
  const remote = remoteOf(failing, metrics);
  await assert.rejects(remote.lookupMany(['192.0.2.1', 'evil.example'], T0, 'red'), /node down/);
  assert.equal(await series(metrics, 'stixgate_lookup_filter_answers_total', { answer: 'unfiltered' }), 2);
  assert.equal(await series(metrics, 'stixgate_lookup_store_requests_total', { outcome: 'error' }), 1);
  assert.equal(await series(metrics, 'stixgate_lookup_store_requests_total', { outcome: 'ok' }), undefined);
});

test('the filter fill, its false-positive estimate, its stale values and the cache size are reported; index entries only for the embedded index', async () => {
  const metrics = new Metrics({ defaults: false });
  const source = new MemoryCandidates();
  const remote = remoteOf(source, metrics);
  const filter = new NegativeFilter({ capacity: 1000, fpRate: 0.001 });
  remote.built(filter);
  const objects = Array.from({ length: 12 }, (_, i) =>
    indicator({ n: i + 1, pattern: `[domain-name:value = 'h${i}.evil.example']` }),
  );
  for (const o of objects) remote.apply(source.push(o));
  // three revoked: their values stay in the filter, counted stale
  for (const o of objects.slice(0, 3)) remote.apply(source.push({ ...o, revoked: true }));
  await remote.lookupMany(['h5.evil.example', 'h6.evil.example'], T0, 'red');

  publishIndexMetrics(metrics, remote);
  assert.equal(await series(metrics, 'stixgate_lookup_filter_values'), 12);
  assert.equal(filter.added, 12);
  assert.equal(await series(metrics, 'stixgate_lookup_filter_capacity'), 1000);
  assert.equal(await series(metrics, 'stixgate_lookup_filter_stale_values'), 3);
  const fp = await series(metrics, 'stixgate_lookup_filter_false_positive_ratio');
  assert.equal(fp, filter.expectedFpRate());
  assert.ok(fp !== undefined && fp > 0 && fp < 0.001, `fp at 12 of 1000: ${fp}`);
  // the two looked-up values were fetched and cached (their parent evil.example is not listed: filtered out)
  assert.equal(await series(metrics, 'stixgate_lookup_cache_entries'), remote.cache.size);
  assert.equal(remote.cache.size, 2);
  assert.equal(await series(metrics, 'stixgate_lookup_cache_bytes'), remote.cache.bytes);
  assert.ok(remote.cache.bytes > 0);
  // remote mode holds no per-kind index: no series instead of zeros
  assert.equal(
    (await must(metrics.registry.getSingleMetric('stixgate_lookup_index_entries'), 'index entries').get()).values
      .length,
    0,
  );
  publishIndexMetrics(metrics, new LookupIndex({ now: () => T0 }));
  assert.equal(await series(metrics, 'stixgate_lookup_index_entries', { kind: 'domain' }), 0);
});

/** An ingest item of a fixture indicator (the store adds its own provenance). */
function stored(o: Indicator): IngestItem {
  const { x_stixgate: _x, ...object } = o;
  return { object, source: 'feed_a' };
}

/** A real embedded store with `n` indicators, a keeper (rebuild at `share`) and a follower over the remote lookups. */
async function keeperRig(t: { after: (f: () => Promise<void>) => void }, n: number, capacity: number, share: number) {
  const dir = mkdtempSync(join(tmpdir(), 'stixgate-rebuild-'));
  const store = new EmbeddedStore({ dataDir: dir });
  await store.open();
  t.after(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const objects = Array.from({ length: n }, (_, i) =>
    indicator({ n: i + 1, pattern: `[ipv4-addr:value = '10.9.0.${i + 1}']` }),
  );
  await store.upsert(objects.map(stored), { now: T0 });
  const lines: { msg: string; reason?: string }[] = [];
  const logger = createLogger({
    level: 'info',
    destination: new Writable({
      write(chunk, _enc, done) {
        for (const l of String(chunk).split('\n')) if (l) lines.push(JSON.parse(l) as { msg: string });
        done();
      },
    }),
  });
  const metrics = new Metrics({ defaults: false });
  // the embedded store answers no candidate queries: the same objects, mirrored in memory, do
  const source = new MemoryCandidates();
  for (const o of objects) source.push(o);
  const remote = new RemoteLookup(source, { now: () => T0, cacheBytes: 1 << 20, metrics });
  const keeper = new FilterKeeper({
    dataDir: dir,
    store,
    shape: { capacity, fpRate: 0.001 },
    logger,
    intervalMs: 0,
    rebuildStaleShare: share,
    metrics,
  });
  const { seq } = await keeper.open(remote);
  await keeper.building;
  const follower = new IndexFollower(store, remote, { from: seq, now: () => T0 });
  keeper.start(remote, follower);
  const revoke = async (from: number, to: number) => {
    const gone = objects.slice(from, to).map((o) => ({ ...o, revoked: true, modified: '2026-01-05T00:00:00.000Z' }));
    for (const o of gone) source.push(o);
    await store.upsert(gone.map(stored), { now: T0 });
    await follower.tick();
  };
  return { store, source, remote, keeper, follower, metrics, lines, revoke };
}

test('stale values past the configured share of the capacity rebuild the filter from the store in the background, logged', async (t) => {
  // capacity 100, share 0.1: more than 10 stale values start a rebuild
  const { remote, keeper, metrics, lines, revoke } = await keeperRig(t, 30, 100, 0.1);
  const first = remote.filter;
  assert.ok(first);
  assert.equal(first.added, 30);
  await revoke(0, 10);
  assert.equal(first.stale, 10);
  assert.equal(remote.filter, first, 'at the threshold: no rebuild');
  assert.equal(await series(metrics, 'stixgate_lookup_filter_rebuilds_total', { reason: 'stale' }), undefined);

  await revoke(10, 11);
  await keeper.building;
  const rebuilt = remote.filter;
  assert.ok(rebuilt && rebuilt !== first, 'a new filter was swapped in');
  assert.equal(rebuilt.added, 19, 'the live values only');
  assert.equal(rebuilt.stale, 0);
  assert.equal(await series(metrics, 'stixgate_lookup_filter_rebuilds_total', { reason: 'stale' }), 1);
  assert.equal(lines.filter((l) => l.msg.includes('rebuilding it from the store') && l.reason === 'stale').length, 1);
  assert.equal(lines.filter((l) => l.msg === 'lookup filter built from the store').length, 2);
  // a revoked value is now a filter miss (no round trip); a live one still matches
  const trips = remote.counters.roundTrips;
  assert.equal((await remote.lookup('10.9.0.1', T0, 'red')).matched, false);
  assert.equal(remote.counters.roundTrips, trips);
  assert.equal((await remote.lookup('10.9.0.20', T0, 'red')).matched, true);
});

test('a fill past the capacity rebuilds when the live values fit, and only warns when they do not', async (t) => {
  // capacity 20, share 0.5 (stale alone would need 11)
  const { store, source, remote, keeper, follower, metrics, lines, revoke } = await keeperRig(t, 18, 20, 0.5);
  await revoke(0, 4);
  const first = remote.filter;
  assert.equal(first?.stale, 4);
  const add = async (from: number, to: number) => {
    const items = [];
    for (let i = from; i < to; i++) {
      const object = indicator({ n: 1000 + i, pattern: `[ipv4-addr:value = '10.8.0.${i}']` });
      source.push(object);
      items.push(stored(object));
    }
    await store.upsert(items, { now: T0 });
    await follower.tick();
  };
  // 18 + 6 = 24 values, 20 live: past the capacity, the live ones fit
  await add(1, 7);
  await keeper.building;
  assert.notEqual(remote.filter, first);
  assert.equal(remote.filter?.added, 20);
  assert.equal(await series(metrics, 'stixgate_lookup_filter_rebuilds_total', { reason: 'over_capacity' }), 1);
  // 5 more live values: 25 > 20, a rebuild would not help: one warning, no rebuild
  const second = remote.filter;
  await add(7, 12);
  assert.equal(remote.filter, second);
  assert.equal(await series(metrics, 'stixgate_lookup_filter_rebuilds_total', { reason: 'over_capacity' }), 1);
  assert.equal(lines.filter((l) => l.msg.includes('raise the capacity')).length, 1);
});
