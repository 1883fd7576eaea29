import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LookupIndex } from '../../src/lookup/index.js';
import {
  accessFingerprint,
  readLookupSnapshot,
  writeLookupSnapshot,
  type SnapshotIdentity,
} from '../../src/lookup/snapshot.js';
import { SnapshotUnusable } from '../../src/lookup/snapshot-codec.js';
import { DEFAULT_POLICY, accessPolicy } from '../../src/access/policy.js';
import type { TlpLevel } from '../../src/core/stix.js';
import { T0, change, indicator, patternOf } from './fixtures.js';
import { must } from '../helpers/must.js';

const ID: SnapshotIdentity = { token: 'token-1', policy: accessFingerprint(DEFAULT_POLICY) };
const LEVELS: TlpLevel[] = ['clear', 'green', 'amber', 'red'];

/** An index of n indicators of every listing kind: shared values, mixed TLPs, labels, scores, expiry, one odd id. */
function populated(n: number): { index: LookupIndex; probes: string[] } {
  const index = new LookupIndex({ now: () => T0 });
  const probes: string[] = ['no-such.example', '203.0.113.200', 'http://nothing.example/'];
  for (let i = 1; i <= n; i++) {
    const { pattern, probe } = patternOf(i);
    probes.push(probe);
    const mixed = i % 17 === 0;
    const obj = indicator({
      n: i,
      pattern,
      tlp: LEVELS[i % 3],
      score: i % 101,
      labels: i % 5 === 0 ? ['botnet', `fam-${i % 4}`] : undefined,
      validUntil: i % 11 === 0 ? T0 + 86_400_000 : undefined,
      sources: mixed
        ? {
            open: {
              first_seen: '2026-01-02T00:00:00.000Z',
              last_seen: '2026-02-01T00:00:00.000Z',
              tlp: 'clear',
              labels: ['open'],
            },
            closed: {
              first_seen: '2025-12-01T00:00:00.000Z',
              last_seen: '2026-02-20T00:00:00.000Z',
              tlp: 'red',
              labels: ['closed'],
            },
          }
        : undefined,
    });
    index.apply(change(obj));
  }
  // a shared value (two indicators on one IP) and an id that is not a lower-case UUID
  index.apply(change(indicator({ n: n + 1, pattern: "[ipv4-addr:value = '10.200.0.1']" })));
  index.apply(change(indicator({ n: n + 3, pattern: "[ipv4-addr:value = '10.200.0.1']", tlp: 'clear' })));
  const odd = indicator({ n: n + 2, pattern: "[domain-name:value = 'odd-id.example']" });
  odd.id = 'indicator--ODD-ID';
  index.apply(change(odd));
  probes.push('odd-id.example', '10.200.0.1');
  // released slots and lists: some indicators removed again
  for (let i = 3; i <= n; i += 29) index.apply(change(indicator({ n: i, pattern: patternOf(i).pattern }), 'expire'));
  return { index, probes };
}

function answers(index: LookupIndex, probes: string[]): string {
  const out: unknown[] = [];
  for (const p of probes) for (const level of LEVELS) out.push(index.lookup(p, T0, level));
  out.push(index.sizes());
  return JSON.stringify(out);
}

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'stixgate-lookup-snapshot-'));
}

test('a snapshot read back answers every lookup, at every TLP ceiling, exactly as the index it was written from', async () => {
  const dir = tmp();
  try {
    const { index, probes } = populated(3_000);
    index.seq = 4242;
    const path = join(dir, 'lookup.snapshot');
    const bytes = await writeLookupSnapshot(path, index, ID);
    assert.equal(bytes, statSync(path).size);
    const back = await readLookupSnapshot(path, ID, { now: () => T0 });
    assert.equal(back.seq, 4242);
    assert.equal(back.size, index.size);
    assert.equal(answers(back, probes), answers(index, probes));
    assert.ok(back.lookup('10.200.0.1', T0, 'amber').indicators.length === 2, 'the shared value keeps both indicators');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a restored index keeps working: changes to restored indicators unlist and relist them like in the original', async () => {
  const dir = tmp();
  try {
    const { index, probes } = populated(600);
    const path = join(dir, 'lookup.snapshot');
    await writeLookupSnapshot(path, index, ID);
    const back = await readLookupSnapshot(path, ID, { now: () => T0 });
    const edits = [
      change(indicator({ n: 1, pattern: patternOf(1).pattern }), 'expire'),
      change(indicator({ n: 9, pattern: "[domain-name:value = 'moved.example']", tlp: 'clear' })),
      change(indicator({ n: 17, pattern: patternOf(17).pattern, revoked: true })),
      change(indicator({ n: 4, pattern: "[url:value = 'http://new.example/x']" })),
      change(indicator({ n: 100_000, pattern: "[domain-name:value = 'fresh.example']" })),
    ];
    for (const c of edits) {
      index.apply(c);
      back.apply(c);
    }
    const more = [...probes, 'moved.example', 'http://new.example/x', 'fresh.example', 'x.fresh.example'];
    assert.equal(answers(back, more), answers(index, more));
    assert.equal(back.sweep(T0 + 2 * 86_400_000), index.sweep(T0 + 2 * 86_400_000));
    assert.equal(answers(back, more), answers(index, more));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a snapshot is refused, with its reason, when the store token or the access policy differs, or the file is missing, cut or damaged', async () => {
  const dir = tmp();
  try {
    const { index } = populated(2_000);
    const path = join(dir, 'lookup.snapshot');
    await writeLookupSnapshot(path, index, ID);
    const refused = async (p: string, id: SnapshotIdentity, reason: RegExp) => {
      await assert.rejects(
        readLookupSnapshot(p, id, { now: () => T0 }),
        (e: unknown) => e instanceof SnapshotUnusable && reason.test((e as Error).message),
      );
    };
    await refused(path, { ...ID, token: 'token-2' }, /store has changed/);
    await refused(path, { ...ID, policy: accessFingerprint(accessPolicy({ defaultTlp: 'green' })) }, /access policy/);
    await refused(join(dir, 'absent'), ID, /no snapshot/);
    const whole = readFileSync(path);
    writeFileSync(join(dir, 'cut'), whole.subarray(0, whole.length - 100));
    await refused(join(dir, 'cut'), ID, /truncated|damaged/);
    const flipped = Buffer.from(whole);
    const mid = Math.floor(flipped.length / 2);
    flipped[mid] = must(flipped[mid], 'the middle byte') ^ 0x40;
    writeFileSync(join(dir, 'flipped'), flipped);
    await refused(join(dir, 'flipped'), ID, /damaged|truncated|more than the index|does not end/);
    writeFileSync(join(dir, 'longer'), Buffer.concat([whole, Buffer.from('x')]));
    await refused(join(dir, 'longer'), ID, /trailing/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an empty index round-trips', async () => {
  const dir = tmp();
  try {
    const path = join(dir, 'lookup.snapshot');
    await writeLookupSnapshot(path, new LookupIndex({ now: () => T0 }), ID);
    const back = await readLookupSnapshot(path, ID, { now: () => T0 });
    assert.equal(back.size, 0);
    assert.equal(back.lookup('a.example', T0, 'red').matched, false);
    back.apply(change(indicator({ n: 1, pattern: "[domain-name:value = 'a.example']" })));
    assert.equal(back.lookup('a.example', T0, 'red').matched, true);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
