/**
 * The negative filter written to `<data_dir>/lookup-filter.snapshot` and read back at the next
 * start (docs/adr/0024-remote-lookups.md): the shape, the change-log sequence it holds every
 * value up to, the store's identity, the listed CIDR lengths and the bit array, in the CRC-checked
 * blocks of the lookup snapshot (snapshot-codec.ts).
 */
import { SnapshotReader, SnapshotUnusable, SnapshotWriter } from '../snapshot-codec.js';
import { NegativeFilter, type FilterShape } from './negative-filter.js';

export const FILTER_SNAPSHOT_FILE = 'lookup-filter.snapshot';
const MAGIC = 'stixgate lookup filter 1';
/** 32-bit words per record (1 MiB, the codec's block size). */
const WORDS_PER_RECORD = 1 << 18;

export interface FilterSnapshotIdentity {
  /** The store's identity (a random id kept in the store, src/lookup/remote/filter-keeper.ts). */
  store: string;
  shape: FilterShape;
}

/** Writes `filter` (holding every value up to `seq`) to `path`; the bytes written. */
export async function writeFilterSnapshot(
  path: string,
  filter: NegativeFilter,
  seq: number,
  storeId: string,
): Promise<number> {
  // the bits are copied first: the filter may take new values while the blocks are written
  const words = filter.buckets.slice();
  const w = await SnapshotWriter.create(path);
  try {
    w.str(MAGIC);
    w.str(storeId);
    w.u32(filter.shape.capacity);
    w.f64(filter.shape.fpRate);
    w.f64(seq);
    w.f64(filter.added);
    w.f64(filter.stale);
    w.bytesOf(filter.v4Lengths);
    w.bytesOf(filter.v6Lengths);
    w.u32(words.length);
    for (let i = 0; i < words.length; i += WORDS_PER_RECORD) {
      const part = words.subarray(i, Math.min(words.length, i + WORDS_PER_RECORD));
      w.bytesOf(new Uint8Array(part.buffer, part.byteOffset, part.byteLength));
      await w.boundary();
    }
    await w.finish();
    return w.bytes;
  } catch (e) {
    await w.abandon();
    throw e;
  }
}

/** Reads a filter snapshot; SnapshotUnusable (with the reason) when it is damaged or does not match `expect`. */
export async function readFilterSnapshot(
  path: string,
  expect: FilterSnapshotIdentity,
): Promise<{ filter: NegativeFilter; seq: number }> {
  let r: SnapshotReader;
  try {
    r = await SnapshotReader.open(path);
  } catch (e) {
    throw new SnapshotUnusable(
      e instanceof Error && 'code' in e && e.code === 'ENOENT'
        ? 'there is no filter snapshot'
        : `the file could not be opened: ${messageOf(e)}`,
    );
  }
  try {
    await r.boundary();
    if (r.str() !== MAGIC) throw new SnapshotUnusable('not a lookup filter snapshot of this version');
    if (r.str() !== expect.store)
      throw new SnapshotUnusable('the snapshot was written for another store (its identity does not match)');
    const capacity = r.u32();
    const fpRate = r.f64();
    if (capacity !== expect.shape.capacity || fpRate !== expect.shape.fpRate)
      throw new SnapshotUnusable('the filter size (lookup.filter capacity or fp_rate) has changed');
    const seq = r.f64();
    const added = r.f64();
    const stale = r.f64();
    const v4 = r.bytes();
    const v6 = r.bytes();
    const n = r.u32();
    const words = new Uint32Array(n);
    const bytes = new Uint8Array(words.buffer);
    for (let i = 0; i < n; i += WORDS_PER_RECORD) {
      await r.boundary();
      const part = r.bytes();
      if (part.byteLength !== Math.min(n - i, WORDS_PER_RECORD) * 4) throw new SnapshotUnusable('the file is damaged');
      bytes.set(part, i * 4);
    }
    await r.finish();
    let filter: NegativeFilter;
    try {
      filter = new NegativeFilter(expect.shape, words);
    } catch (e) {
      throw new SnapshotUnusable(`the filter does not fit its shape: ${messageOf(e)}`);
    }
    if (v4.length !== filter.v4Lengths.length || v6.length !== filter.v6Lengths.length)
      throw new SnapshotUnusable('the file is damaged');
    filter.v4Lengths.set(v4);
    filter.v6Lengths.set(v6);
    filter.added = added;
    filter.stale = stale;
    return { filter, seq };
  } catch (e) {
    await r.abandon();
    if (e instanceof SnapshotUnusable) throw e;
    throw new SnapshotUnusable(`the file is damaged: ${messageOf(e)}`);
  }
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
