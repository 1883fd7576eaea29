import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LookupIndex } from '../../src/lookup/index.js';
import { RemoteLookup } from '../../src/lookup/remote/remote-lookup.js';
import { NegativeFilter, filterGeometry } from '../../src/lookup/remote/negative-filter.js';
import { readFilterSnapshot, writeFilterSnapshot } from '../../src/lookup/remote/filter-snapshot.js';
import { SnapshotUnusable } from '../../src/lookup/snapshot-codec.js';
import { T0, indicator } from './fixtures.js';
import { LEVELS, MemoryCandidates, fixtureObjects } from './remote-fixture.js';

const SHAPE = { capacity: 20_000, fpRate: 0.001 };

/** The embedded index and the remote lookups fed the same change log. */
function both(n: number, withFilter = true) {
  const { objects, probes } = fixtureObjects(n);
  const index = new LookupIndex({ now: () => T0 });
  const source = new MemoryCandidates();
  const remote = new RemoteLookup(source, { now: () => T0, cacheBytes: 4 << 20 });
  if (withFilter) remote.built(new NegativeFilter(SHAPE));
  for (const o of objects) {
    const c = source.push(o);
    index.apply(c);
    remote.apply(c);
  }
  return { index, remote, source, probes };
}

async function compare(index: LookupIndex, remote: RemoteLookup, probes: string[], now: number): Promise<number> {
  let matched = 0;
  for (const level of LEVELS) {
    const got = await remote.lookupMany(probes, now, level);
    for (const [i, p] of probes.entries()) {
      const want = index.lookup(p, now, level);
      assert.deepEqual(got[i], want, `${p} at ${level}`);
      if (want.matched) matched++;
    }
  }
  return matched;
}

test('remote lookups answer every probe, at every TLP ceiling and before and after expiry, exactly as the embedded index', async () => {
  const { index, remote, probes } = both(1_500);
  const matched = await compare(index, remote, probes, T0);
  assert.ok(matched > 2_000, `the fixture hits (${matched})`);
  // a second pass is answered from the hot cache, identically; a day later the expiring ones are gone
  await compare(index, remote, probes, T0);
  assert.ok(remote.cache.hits > 0);
  await compare(index, remote, probes, T0 + 2 * 86_400_000);
});

test('without a filter (still building) every lookup asks the store, with the same answers', async () => {
  const { index, remote, source, probes } = both(300, false);
  const before = source.calls;
  await compare(index, remote, probes.slice(0, 50), T0);
  assert.equal(remote.counters.filtered, 0);
  assert.ok(source.calls > before);
});

test('misses the filter rules out are answered without a round trip (≥ 95% of absent values)', async () => {
  const { remote, source } = both(3_000);
  const misses: string[] = [];
  for (let i = 0; i < 4_000; i++)
    misses.push(i % 2 ? `198.18.${(i >> 8) & 255}.${i & 255}` : `absent-${i}.example.org`);
  const calls = source.calls;
  const trips = remote.counters.roundTrips;
  for (const m of misses) assert.equal((await remote.lookup(m, T0, 'red')).matched, false);
  const asked = remote.counters.roundTrips - trips;
  assert.equal(source.calls - calls, asked);
  assert.ok(asked <= misses.length * 0.05, `${asked} of ${misses.length} misses went to the store`);
});

test('a batch asks the store once for all its values', async () => {
  const { remote, source, probes } = both(300);
  const calls = source.calls;
  await remote.lookupMany(probes, T0, 'red');
  assert.equal(source.calls - calls, 1);
});

test('changes reach the remote lookups through apply(): a cached answer is dropped on revoke, a new value passes the filter', async () => {
  const source = new MemoryCandidates();
  const remote = new RemoteLookup(source, { now: () => T0, cacheBytes: 1 << 20 });
  remote.built(new NegativeFilter(SHAPE));
  const a = indicator({ n: 1, pattern: "[domain-name:value = 'evil.example']" });
  remote.apply(source.push(a));
  assert.equal((await remote.lookup('x.evil.example', T0, 'red')).matched, true);
  assert.equal((await remote.lookup('x.evil.example', T0, 'red')).matched, true);
  const calls = source.calls;
  remote.apply(source.push({ ...a, revoked: true }));
  assert.equal((await remote.lookup('x.evil.example', T0, 'red')).matched, false);
  assert.equal(source.calls, calls + 1, 'the revocation dropped the cached entry');
  // a new value was not in the filter: after apply() it is looked up and found
  assert.equal((await remote.lookup('new.example', T0, 'red')).matched, false);
  remote.apply(source.push(indicator({ n: 2, pattern: "[domain-name:value = 'new.example']" })));
  assert.equal((await remote.lookup('new.example', T0, 'red')).matched, true);
  // the pattern of a cached indicator changes: the old value no longer matches
  remote.apply(source.push(indicator({ n: 2, pattern: "[domain-name:value = 'other.example']" })));
  assert.equal((await remote.lookup('new.example', T0, 'red')).matched, false);
});

test('the filter has no false negatives and its false-positive rate is near its target (counted over 200k absent values)', () => {
  const f = new NegativeFilter({ capacity: 50_000, fpRate: 0.01 });
  for (let i = 0; i < 50_000; i++) f.add('domain-name', `member-${i}.example`);
  for (let i = 0; i < 50_000; i++) assert.equal(f.mightHave(`member-${i}.example`), true);
  let fp = 0;
  for (let i = 0; i < 200_000; i++) if (f.mightHave(`absent-${i}.example`)) fp++;
  const rate = fp / 200_000;
  assert.ok(rate > 0.005 && rate < 0.015, `measured ${rate}`);
  assert.ok(Math.abs(f.expectedFpRate() - 0.01) < 0.002, `expected ${f.expectedFpRate()}`);
  assert.ok(f.added > 49_500 && f.added <= 50_000, 'added counts values the filter did not already hold');
  // memory is fixed by the shape: 9.59 bits per value at 1%
  assert.equal(f.bytes, filterGeometry(f.shape).bits / 8);
  assert.ok(f.bytes < 50_000 * 1.25);
});

test('the filter records listed CIDR prefix lengths: an address probes only those', async () => {
  const f = new NegativeFilter(SHAPE);
  f.add('ipv4-addr', '10.0.0.0/8');
  f.add('ipv6-addr', '2001:db8::/32');
  assert.deepEqual(
    [...f.v4Lengths.keys()].filter((l) => f.v4Lengths[l] === 1),
    [8],
  );
  assert.deepEqual(
    [...f.v6Lengths.keys()].filter((l) => f.v6Lengths[l] === 1),
    [32],
  );
  const source = new MemoryCandidates();
  const remote = new RemoteLookup(source, { now: () => T0, cacheBytes: 0 });
  remote.built(f);
  remote.apply(source.push(indicator({ n: 1, pattern: "[ipv4-addr:value = '10.0.0.0/8']" })));
  const r = await remote.lookup('10.9.9.9', T0, 'red');
  assert.equal(r.indicators[0]?.matched_value, '10.0.0.0/8');
});

test('a filter snapshot round-trips; a damaged, cut, foreign or re-sized one is refused with its reason', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'stixgate-filter-'));
  try {
    const f = new NegativeFilter({ capacity: 300_000, fpRate: 0.001 });
    for (let i = 0; i < 10_000; i++) f.add('ipv4-addr', `10.${(i >> 8) & 255}.${i & 255}.0/24`);
    f.stale = 7;
    const path = join(dir, 'lookup-filter.snapshot');
    await writeFilterSnapshot(path, f, 4242, 'store-1');
    const back = await readFilterSnapshot(path, { store: 'store-1', shape: f.shape });
    assert.equal(back.seq, 4242);
    assert.deepEqual(back.filter.buckets, f.buckets);
    assert.deepEqual(back.filter.v4Lengths, f.v4Lengths);
    assert.equal(back.filter.added, f.added);
    assert.equal(back.filter.stale, 7);
    const refused = async (expect: RegExp, store = 'store-1', shape = f.shape) =>
      assert.rejects(
        readFilterSnapshot(path, { store, shape }),
        (e: unknown) => e instanceof SnapshotUnusable && expect.test((e as Error).message),
      );
    await refused(/another store/, 'store-2');
    await refused(/size .* has changed/, 'store-1', { capacity: 300_001, fpRate: 0.001 });
    const bytes = readFileSync(path);
    const damaged = Buffer.from(bytes);
    damaged[damaged.length - 100] = (damaged[damaged.length - 100] as number) ^ 0xff;
    writeFileSync(path, damaged);
    await refused(/damaged|checksum/);
    writeFileSync(path, bytes.subarray(0, bytes.length - 5000));
    await refused(/truncated|damaged/);
    rmSync(path);
    await refused(/no filter snapshot/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('lookups arriving while the store requests are in flight share the next request', async () => {
  const { index, remote, source, probes } = both(400);
  const held: (() => void)[] = [];
  const real = source.candidates.bind(source);
  source.candidates = async (values, limit) => {
    await new Promise<void>((release) => held.push(release));
    return real(values, limit);
  };
  const hits = probes.filter((p) => index.lookup(p, T0, 'red').matched).slice(0, 40);
  const calls = source.calls;
  const answers = hits.map((p) => remote.lookup(p, T0, 'red'));
  // four requests went out (the in-flight bound); the other 36 lookups wait for one slot
  await new Promise((r) => setImmediate(r));
  assert.equal(held.length, 4);
  for (let round = 0; held.length > 0 && round < 10; round++) {
    for (const release of held.splice(0)) release();
    await new Promise((r) => setImmediate(r));
  }
  const got = await Promise.all(answers);
  for (const [i, p] of hits.entries()) assert.deepEqual(got[i], index.lookup(p, T0, 'red'));
  assert.equal(source.calls - calls, 5, 'four lone requests, then one carrying the 36 that waited');
  assert.equal(remote.batcher.carried - remote.batcher.requests, 35);
});
