import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { LedgerUpdate } from '../ledger.js';
import { committedState as stateAt, nextDoc as maybeNext, rowOf, type LedgerDoc } from './ledger-docs.js';

/** The value, or a failed assertion naming what was missing. */
function present<T>(v: T | undefined, what: string): T {
  if (v === undefined) throw new assert.AssertionError({ message: `expected ${what}`, actual: v });
  return v;
}
const nextDoc = (...a: Parameters<typeof maybeNext>): LedgerDoc => present(maybeNext(...a), 'a document to write');
const committedState = (d: LedgerDoc, cursor: number) => present(stateAt(d, cursor), 'a committed state');

/**
 * The OpenSearch ledger's documents written ahead of their cursor (ledger-docs.ts): a reader sees
 * the state the committed cursor covers, a replay after a crash starts again from it, and the
 * embedded store's rules hold (since moves on a change of state or reason, seq 0 keeps the
 * sequence, a skip leaves a present value alone).
 */
const KEY = 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678';
const pushed = (seq: number): LedgerUpdate => ({
  key: KEY,
  state: 'present',
  reason: 'pushed',
  seq,
  score: 70,
  threshold: 0,
  contributions: 'feed=clear',
});
const revoked = (seq: number): LedgerUpdate => ({ ...pushed(seq), state: 'removed', reason: 'revoked' });

test('a document written ahead of its cursor reads as the state it replaces until the cursor is committed', () => {
  const first = nextDoc(undefined, 0, [pushed(5)], KEY, 'siem', 10, 100);
  assert.equal(first.c, 10);
  assert.equal(first.p, undefined);
  assert.equal(stateAt(first, 9), undefined, 'no row before the cursor covers it');
  assert.equal(rowOf(KEY, 'siem', committedState(first, 10)).state, 'present');

  const committed: LedgerDoc = first;
  const second = nextDoc(committed, 10, [revoked(15)], KEY, 'siem', 20, 200);
  assert.deepEqual([second.c, second.p?.st, second.p?.t], [20, 0, 100]);
  const before = rowOf(KEY, 'siem', committedState(second, 10));
  assert.deepEqual([before.state, before.since, before.seq], ['present', 100_000, 5]);
  const after = rowOf(KEY, 'siem', committedState(second, 20));
  assert.deepEqual([after.state, after.reason, after.since, after.seq], ['removed', 'revoked', 200_000, 15]);
});

test('a replay after a crash starts from the committed state, not from the uncommitted one', () => {
  const committed = nextDoc(undefined, 0, [pushed(5)], KEY, 'siem', 0, 100);
  const crashed = nextDoc(committed, 0, [revoked(15)], KEY, 'siem', 20, 200);
  // the cursor stayed below 20; the replay pushes the same value again under cursor 18
  const replay = nextDoc(crashed, 0, [pushed(15)], KEY, 'siem', 18, 300);
  assert.equal(replay.t, 100, 'since kept: present before and after, whatever was written ahead');
  assert.deepEqual(replay.p && rowOf(KEY, 'siem', replay.p).state, 'present');
  // a cursor-less write (a full re-send) over an uncommitted document commits at once
  const full = nextDoc(crashed, 0, [pushed(0)], KEY, 'siem', 0, 400);
  assert.deepEqual([full.c, full.p, full.q, full.t], [0, undefined, 5, 100]);
});

test('a skip leaves a present value alone; an unchanged committed document is not written again', () => {
  const committed = nextDoc(undefined, 0, [pushed(5)], KEY, 'siem', 0, 100);
  const skip: LedgerUpdate = { ...pushed(9), state: 'withheld', reason: 'filter', soft: true, detail: 'filters.types' };
  assert.equal(maybeNext(committed, 0, [skip], KEY, 'siem', 12, 200), undefined);
  const withheld = nextDoc(undefined, 0, [skip], KEY, 'siem', 12, 200);
  assert.deepEqual([withheld.st, withheld.d, withheld.q], [2, 'filters.types', 9]);
  // the same skip over an uncommitted present document rolls it back to nothing but the skip
  const ahead = nextDoc(undefined, 0, [pushed(5)], KEY, 'siem', 12, 100);
  const again = nextDoc(ahead, 0, [skip], KEY, 'siem', 14, 300);
  assert.deepEqual([again.st, again.c, again.p], [2, 14, undefined]);
});
