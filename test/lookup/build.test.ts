import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmbeddedStore } from '../../src/store/embedded/store.js';
import type { Store } from '../../src/store/contract.js';
import { buildIndex } from '../../src/lookup/index.js';
import { uuidWords } from '../../src/lookup/slots.js';
import { T0, indicator, type IndicatorSpec } from './fixtures.js';
import { must } from '../helpers/must.js';

function item(spec: IndicatorSpec, source = 'feed_a') {
  const { x_stixgate: _drop, ...object } = indicator(spec);
  return { object, source, confidence: 70 };
}

test('buildIndex through activeIndicators() gives the same index as through changes()', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'stixgate-build-'));
  const store = new EmbeddedStore({ dataDir: dir });
  await store.open();
  t.after(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const now = T0;
  await store.upsert(
    [
      item({ n: 1, pattern: "[ipv4-addr:value = '198.51.100.1']", labels: ['botnet', 'c2'] }),
      item({ n: 2, pattern: "[ipv4-addr:value = '10.0.0.0/8']" }),
      item({ n: 3, pattern: "[ipv6-addr:value = '2001:db8::/32'] OR [domain-name:value = 'Evil.Example']" }),
      item({ n: 4, pattern: "[url:value = 'http://x.example/a']", revoked: true }),
      item({ n: 5, pattern: "[file:hashes.MD5 = 'D41D8CD98F00B204E9800998ECF8427E']", tlp: 'red' }),
      item({ n: 6, pattern: "[email-addr:value = 'a@b.example']", validUntil: T0 - 1 }),
      item({ n: 7, pattern: "[ipv4-addr:value = '198.51.100.1']", labels: ['scanner'] }, 'feed_b'),
      {
        object: {
          type: 'domain-name',
          spec_version: '2.1',
          id: 'domain-name--00000000-0000-4000-8000-000000000001',
          value: 'sco.example',
        },
        source: 'feed_a',
      },
    ],
    { now },
  );
  await store.upsert(
    [item({ n: 1, pattern: "[ipv4-addr:value = '198.51.100.1']", labels: ['botnet', 'c2'] }, 'feed_b')],
    { now: now + 3_600_000 },
  );

  const viaLog: Store = Object.assign(Object.create(store) as Store, { activeIndicators: undefined });
  const fast = await buildIndex(store, { now: () => now, pageSize: 2 });
  const slow = await buildIndex(viaLog, { now: () => now, pageSize: 2 });
  assert.equal(fast.seq, await store.head());
  assert.equal(fast.seq, slow.seq);
  assert.equal(fast.index.seq, slow.index.seq);
  assert.deepEqual(fast.index.sizes(), slow.index.sizes());
  assert.equal(fast.index.size, 5);
  for (const v of [
    '198.51.100.1',
    '10.1.2.3',
    '2001:db8::1',
    'evil.example',
    'a.evil.example',
    'http://x.example/a',
    'd41d8cd98f00b204e9800998ecf8427e',
    'a@b.example',
    'sco.example',
  ]) {
    assert.deepEqual(fast.index.lookup(v, now, 'red'), slow.index.lookup(v, now, 'red'), v);
  }
  const hit = fast.index.lookup('198.51.100.1', now, 'red');
  assert.deepEqual(
    hit.indicators.map((m) => [m.id.slice(-2), m.labels, m.sources]),
    [
      ['07', ['scanner'], ['feed_b']],
      ['01', ['botnet', 'c2'], ['feed_a', 'feed_b']],
    ],
  );
  assert.equal(must(hit.indicators[1], 'hit.indicators[1]').last_seen, new Date(now + 3_600_000).toISOString());
});

test('uuidWords reads exactly the lower-case indicator ids', () => {
  const w = new Uint32Array(4);
  assert.equal(uuidWords('indicator--0123abcd-4567-89ef-0a1b-2c3d4e5f6789', w), true);
  assert.deepEqual([...w], [0x0123abcd, 0x456789ef, 0x0a1b2c3d, 0x4e5f6789]);
  assert.equal(uuidWords('indicator--ffffffff-ffff-ffff-ffff-ffffffffffff', w), true);
  assert.deepEqual([...w], [0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff]);
  for (const bad of [
    'indicator--0123ABCD-4567-89ef-0a1b-2c3d4e5f6789',
    'indicator--0123abcd-4567-89ef-0a1b-2c3d4e5f678',
    'indicator--0123abcd_4567-89ef-0a1b-2c3d4e5f6789',
    'malware--0123abcd-4567-89ef-0a1b-2c3d4e5f67890',
    'indicator--0123abcg-4567-89ef-0a1b-2c3d4e5f6789',
  ]) {
    assert.equal(uuidWords(bad, w), false, bad);
  }
});
