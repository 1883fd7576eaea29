import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeadLetterFile } from '../../src/delivery/dead-letter.js';
import type { SinkRecord } from '../../src/delivery/types.js';

function rejected(i: number): { record: SinkRecord; reason: string } {
  const value = `198.51.100.${i}`;
  const record = {
    op: 'upsert',
    seq: i,
    key: value,
    observable: { type: 'ipv4-addr', value },
    object: { id: `indicator--${i}` },
  } as unknown as SinkRecord;
  return { record, reason: `rejected ${i}` };
}

const seqs = (path: string) =>
  readFileSync(path, 'utf8')
    .trim()
    .split('\n')
    .map((l) => (JSON.parse(l) as { seq: number }).seq);

test('issue 18: dead-letter rotation keeps the newest N files, counts every rotation and says how much it dropped', () => {
  const dir = mkdtempSync(join(tmpdir(), 'stixgate-dlq-'));
  try {
    const path = join(dir, 'dead-letter', 'fake.jsonl');
    const one = Buffer.byteLength(
      `${JSON.stringify({ time: new Date(0).toISOString(), sink: 'fake', op: 'upsert', seq: 1, key: '198.51.100.1', type: 'ipv4-addr', value: '198.51.100.1', stix_id: 'indicator--1', reason: 'rejected 1' })}\n`,
    );
    // room for two lines per file, two rotated files kept
    const dlq = new DeadLetterFile(path, { maxBytes: one * 2 + 10, keep: 2 });
    const rotations = [];
    for (let i = 1; i <= 9; i++) rotations.push(dlq.write('fake', [rejected(i)], 0));
    // lines 1-2 | 3-4 | 5-6 | 7-8 | 9: four rotations; the third and fourth each drop the oldest file
    assert.deepEqual(
      rotations.map((r) => r && { dropped: r.droppedBytes > 0 }),
      [
        undefined,
        undefined,
        { dropped: false },
        undefined,
        { dropped: false },
        undefined,
        { dropped: true },
        undefined,
        { dropped: true },
      ],
    );
    const droppedBytes = rotations.reduce((n, r) => n + (r?.droppedBytes ?? 0), 0);
    assert.equal(droppedBytes, 2 * (2 * one), 'two files of two lines each were dropped');
    assert.deepEqual(seqs(path), [9]);
    assert.deepEqual(seqs(`${path}.1`), [7, 8]);
    assert.deepEqual(seqs(`${path}.2`), [5, 6]);
    assert.equal(existsSync(`${path}.3`), false);
    assert.equal(dlq.rotations, 4);
    assert.equal(dlq.droppedBytes, droppedBytes);
    // a new writer (a restart) continues from the file's size on disk
    const again = new DeadLetterFile(path, { maxBytes: one * 2 + 10, keep: 2 });
    assert.equal(again.write('fake', [rejected(10)], 0), undefined);
    assert.equal(statSync(path).size, 2 * one + 5, 'line 10 is 5 bytes longer');
    assert.deepEqual(again.write('fake', [rejected(11)], 0), { droppedBytes: 2 * one });
    assert.deepEqual(seqs(`${path}.1`), [9, 10]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
