import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { LookupIndex } from '../../src/lookup/index.js';
import { accessFingerprint, readLookupSnapshot, writeLookupSnapshot } from '../../src/lookup/snapshot.js';
import { DEFAULT_POLICY } from '../../src/access/policy.js';
import type { TlpLevel } from '../../src/core/stix.js';
import { T0, change, indicator } from './fixtures.js';

// The index's maps hold at most SHARD entries each here (V8's own Map limit is 2^24, never reached in a test).
const SHARD = 100;
const PER_KIND = 450;
const LEVELS: TlpLevel[] = ['clear', 'green', 'amber', 'red'];

/** One value of each kind per i: enough of each that every kind's map spans several shards. */
function listings(i: number): { pattern: string; probe: string }[] {
  const sha = createHash('sha256').update(String(i)).digest('hex');
  return [
    { pattern: `[ipv4-addr:value = '10.${(i >> 8) & 255}.${i & 255}.7']`, probe: `10.${(i >> 8) & 255}.${i & 255}.7` },
    { pattern: `[domain-name:value = 'h${i}.evil.example']`, probe: `a.b.h${i}.evil.example` },
    { pattern: `[url:value = 'http://s${i}.example.net/p/${i}']`, probe: `http://s${i}.example.net/p/${i}` },
    { pattern: `[file:hashes.'SHA-256' = '${sha}']`, probe: sha },
    { pattern: `[email-addr:value = 'u${i}@mail.example']`, probe: `u${i}@mail.example` },
    { pattern: `[ipv6-addr:value = '2001:db8::${i.toString(16)}']`, probe: `2001:db8::${i.toString(16)}` },
    {
      pattern: `[ipv4-addr:value = '172.${(i >> 8) & 255}.${i & 255}.0/24']`,
      probe: `172.${(i >> 8) & 255}.${i & 255}.9`,
    },
    { pattern: `[ipv6-addr:value = '2001:db8:${i.toString(16)}::/48']`, probe: `2001:db8:${i.toString(16)}::1` },
  ];
}

function fill(index: LookupIndex): string[] {
  const probes = ['no-such.example', '203.0.113.200', 'http://nothing.example/', '10.250.250.250'];
  let n = 0;
  for (let i = 1; i <= PER_KIND; i++) {
    for (const { pattern, probe } of listings(i)) {
      n++;
      index.apply(change(indicator({ n, pattern, tlp: LEVELS[n % 3], score: n % 101 })));
      probes.push(probe);
    }
  }
  // two indicators sharing one value land in the same posting, whatever shard holds it
  index.apply(change(indicator({ n: n + 1, pattern: "[ipv4-addr:value = '10.0.5.7']" })));
  return probes;
}

/** Removes every third indicator: postings leave their shards, emptied shards are dropped. */
function thin(index: LookupIndex): void {
  let n = 0;
  for (let i = 1; i <= PER_KIND; i++) {
    for (const { pattern } of listings(i)) {
      n++;
      if (n % 3 === 0) index.apply(change(indicator({ n, pattern }), 'expire'));
    }
  }
}

function answers(index: LookupIndex, probes: string[]): string {
  const out: unknown[] = [index.sizes()];
  for (const p of probes) for (const level of LEVELS) out.push(index.lookup(p, T0, level));
  return JSON.stringify(out);
}

test('an index whose maps are split into shards answers exactly as one whose maps are whole', () => {
  const whole = new LookupIndex({ now: () => T0 });
  const sharded = new LookupIndex({ now: () => T0, mapShardLimit: SHARD });
  const probes = fill(whole);
  fill(sharded);
  const parts = sharded.parts();
  assert.ok(parts.ipv4.shardCount >= Math.ceil(PER_KIND / SHARD), `ipv4 spans ${parts.ipv4.shardCount} shards`);
  for (const [kind, map] of parts.exact) assert.ok(map.shardCount >= 4, `kind ${kind} spans ${map.shardCount} shards`);
  assert.equal(whole.parts().ipv4.shardCount, 1);
  assert.equal(answers(sharded, probes), answers(whole, probes));
  const hit = sharded.lookup('10.0.5.7', T0, 'amber');
  assert.equal(hit.indicators.length, 2);
  const last = listings(PER_KIND);
  for (const { probe } of last)
    assert.ok(sharded.lookup(probe, T0, 'red').matched, `${probe} is found in the last shard`);

  thin(whole);
  thin(sharded);
  assert.equal(answers(sharded, probes), answers(whole, probes));
  assert.equal(sharded.size, whole.size);
});

test('a snapshot of a sharded index reads back into shards and answers the same', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'stixgate-sharded-'));
  try {
    const id = { token: 't', policy: accessFingerprint(DEFAULT_POLICY) };
    const index = new LookupIndex({ now: () => T0, mapShardLimit: SHARD });
    const probes = fill(index);
    thin(index);
    const path = join(dir, 'lookup.snapshot');
    await writeLookupSnapshot(path, index, id);
    const back = await readLookupSnapshot(path, id, { now: () => T0, mapShardLimit: SHARD });
    assert.ok(back.parts().ipv4.shardCount > 1);
    assert.equal(answers(back, probes), answers(index, probes));
    // and the restored shards keep taking changes
    back.apply(change(indicator({ n: 1, pattern: "[ipv4-addr:value = '10.0.1.7']" }), 'expire'));
    assert.equal(back.lookup('10.0.1.7', T0, 'red').matched, false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
