import { errorMessage } from '../core/errors.js';
/**
 * The lookup index written to a file and read back at the next start (docs/adr/0020-lookup-snapshot.md),
 * so that a restart restores the packed structures instead of reading and parsing every active
 * indicator from the store (about 7 s per million). The file holds the slot columns as bytes, the
 * interned lists, every posting map and the few whole objects of mixed-TLP indicators; the refs
 * each slot is listed under are rebuilt from the maps.
 */
import { createHash } from 'node:crypto';
import type { StixObject } from '../core/stix.js';
import type { AccessPolicy } from '../access/policy.js';
import { LookupIndex, type IndexParts, type Ref } from './lookup-index.js';
import type { Posting } from './postings.js';
import { SLOT_BYTES } from './slots.js';
import { SnapshotReader, SnapshotUnusable, SnapshotWriter } from './snapshot-codec.js';
import type { LookupIndexOptions } from './types.js';
import { errorCode } from '../core/guards.js';

export const LOOKUP_SNAPSHOT_FILE = 'lookup.snapshot';
const MAGIC = 'stixgate lookup snapshot 1';
/** Slots per record of the column bytes (SLOT_BYTES each: a record stays near the 1 MiB block size). */
const SLOTS_PER_RECORD = 16_384;

/** What a snapshot must agree with to be used. */
export interface SnapshotIdentity {
  /** A token written into the store (a cursor) when the snapshot was taken. */
  token: string;
  /** The fingerprint of the access policy the index was built under (accessFingerprint()). */
  policy: string;
}

/** The part of the access policy that decides what the index holds per indicator. */
export function accessFingerprint(policy: AccessPolicy): string {
  return createHash('sha256')
    .update(JSON.stringify({ defaultTlp: policy.defaultTlp, scoring: policy.scoring }))
    .digest('hex')
    .slice(0, 32);
}

function writePosting(w: SnapshotWriter, p: Posting): void {
  if (typeof p === 'number') {
    w.u32(1);
    w.u32(p);
    return;
  }
  w.u32(p.length);
  for (const s of p) w.u32(s);
}

function readPosting(r: SnapshotReader): Posting {
  const n = r.u32();
  if (n === 1) return r.u32();
  const out: number[] = new Array(n);
  for (let i = 0; i < n; i++) out[i] = r.u32();
  return out;
}

/**
 * Writes `index` to `path` (complete when the promise resolves). The caller keeps the index
 * unchanged meanwhile (IndexFollower.exclusive); lookups may go on, and every block written gives
 * the event loop a turn.
 */
export async function writeLookupSnapshot(path: string, index: LookupIndex, id: SnapshotIdentity): Promise<number> {
  const p = index.parts();
  const w = await SnapshotWriter.create(path);
  try {
    w.str(MAGIC);
    w.str(id.token);
    w.str(id.policy);
    w.f64(index.seq);
    const cols = p.slots.columns();
    const end = p.slots.end;
    w.u32(end);
    for (let s = 0; s < end; s += SLOTS_PER_RECORD) {
      w.bytesOf(cols.subarray(s * SLOT_BYTES, Math.min(end, s + SLOTS_PER_RECORD) * SLOT_BYTES));
      if (w.due) await w.boundary();
    }
    const { free, odd } = p.slots.spare();
    w.u32(free.length);
    for (const s of free) w.u32(s);
    w.u32(odd.size);
    for (const [s, oddId] of odd) {
      w.u32(s);
      w.str(oddId);
      if (w.due) await w.boundary();
    }
    const lists = p.lists.dump();
    w.u32(lists.lists.length);
    for (let i = 0; i < lists.lists.length; i++) {
      const list = lists.lists[i];
      w.u32(lists.refs[i] ?? 0);
      w.u32(list === undefined ? 0xffffffff : list.length);
      for (const x of list ?? []) w.str(x);
      if (w.due) await w.boundary();
    }
    w.u32(lists.free.length);
    for (const x of lists.free) w.u32(x);
    w.u32(p.ipv4.size);
    for (const [key, posting] of p.ipv4) {
      w.i32(key);
      writePosting(w, posting);
      if (w.due) await w.boundary();
    }
    for (const [, map] of p.exact) {
      w.u32(map.size);
      for (const [key, posting] of map) {
        w.str(key);
        writePosting(w, posting);
        if (w.due) await w.boundary();
      }
    }
    const v4: [number, number, Posting][] = [];
    p.v4Ranges.forEach((len, key, posting) => {
      v4.push([len, key, posting]);
    });
    w.u32(v4.length);
    for (const [len, key, posting] of v4) {
      w.u8(len);
      w.i32(key);
      writePosting(w, posting);
      if (w.due) await w.boundary();
    }
    const v6: [number, string, string, Posting][] = [];
    p.v6Ranges.forEach((len, key, text, posting) => {
      v6.push([len, key, text, posting]);
    });
    w.u32(v6.length);
    for (const [len, key, text, posting] of v6) {
      w.u8(len);
      w.str(key);
      w.str(text);
      writePosting(w, posting);
      if (w.due) await w.boundary();
    }
    w.u32(p.mixed.size);
    for (const [slot, m] of p.mixed) {
      w.u32(slot);
      w.u8(m.high);
      w.str(JSON.stringify(m.obj));
      if (w.due) await w.boundary();
    }
    w.str(MAGIC);
    await w.finish();
    return w.bytes;
  } catch (e) {
    await w.abandon();
    throw e;
  }
}

/** Lists `slot` under `key` in its refs (rebuilt from the maps: what list() recorded when it was added). */
function addRef(p: IndexParts, slot: number, ref: Ref): void {
  const refs = p.slots.refs as unknown[];
  if (p.slots.kind(slot) === p.kinds.multi) (refs[slot] as Ref[]).push(ref);
  else refs[slot] = ref[1];
}

function eachSlot(posting: Posting, visit: (slot: number) => void): void {
  if (typeof posting === 'number') visit(posting);
  else for (const s of posting) visit(s);
}

/**
 * Reads a snapshot into a new index. Throws SnapshotUnusable (with the reason) when the file is
 * damaged or does not match `expect`; the caller then builds the index from the store.
 */
export async function readLookupSnapshot(
  path: string,
  expect: SnapshotIdentity,
  opts: LookupIndexOptions & { now?: () => number },
): Promise<LookupIndex> {
  let r: SnapshotReader;
  try {
    r = await SnapshotReader.open(path);
  } catch (e) {
    throw new SnapshotUnusable(
      errorCode(e) === 'ENOENT' ? 'there is no snapshot' : `the file could not be opened: ${errorMessage(e)}`,
    );
  }
  try {
    await r.boundary();
    if (r.str() !== MAGIC) throw new SnapshotUnusable('not a lookup snapshot of this version');
    if (r.str() !== expect.token)
      throw new SnapshotUnusable('the store has changed since the snapshot was written (its token does not match)');
    if (r.str() !== expect.policy)
      throw new SnapshotUnusable(
        'the access policy (default_tlp or scoring) has changed since the snapshot was written',
      );
    const index = new LookupIndex(opts);
    const p = index.parts();
    index.seq = r.f64();
    const end = r.u32();
    const cols = new Uint8Array(end * SLOT_BYTES);
    for (let s = 0; s < end; s += SLOTS_PER_RECORD) {
      const part = r.bytes();
      cols.set(part, s * SLOT_BYTES);
      if (r.exhausted) await r.boundary();
    }
    const free: number[] = [];
    for (let n = r.u32(); n > 0; n--) free.push(r.u32());
    const odd = new Map<number, string>();
    for (let n = r.u32(); n > 0; n--) {
      odd.set(r.u32(), r.str());
      if (r.exhausted) await r.boundary();
    }
    p.slots.restore(cols, end, free, odd);
    const refs = p.slots.refs as unknown[];
    for (let s = 0; s < end; s++) if (p.slots.used(s) && p.slots.kind(s) === p.kinds.multi) refs[s] = [];
    const lists: (string[] | undefined)[] = [];
    const counts: number[] = [];
    for (let n = r.u32(); n > 0; n--) {
      counts.push(r.u32());
      const len = r.u32();
      if (len === 0xffffffff) lists.push(undefined);
      else {
        const list: string[] = new Array(len);
        for (let i = 0; i < len; i++) list[i] = r.str();
        lists.push(list);
      }
      if (r.exhausted) await r.boundary();
    }
    const freeLists: number[] = [];
    for (let n = r.u32(); n > 0; n--) freeLists.push(r.u32());
    p.lists.restore(lists, counts, freeLists);
    for (let n = r.u32(); n > 0; n--) {
      const key = r.i32();
      const posting = readPosting(r);
      p.ipv4.set(key, posting);
      eachSlot(posting, (s) => addRef(p, s, [p.kinds.ipv4, key, 0]));
      if (r.exhausted) await r.boundary();
    }
    for (const [kind, map] of p.exact) {
      for (let n = r.u32(); n > 0; n--) {
        const key = r.str();
        const posting = readPosting(r);
        map.set(key, posting);
        eachSlot(posting, (s) => addRef(p, s, [kind, key, 0]));
        if (r.exhausted) await r.boundary();
      }
    }
    for (let n = r.u32(); n > 0; n--) {
      const len = r.u8();
      const key = r.i32();
      const posting = readPosting(r);
      p.v4Ranges.restore(len, key, posting);
      eachSlot(posting, (s) => addRef(p, s, [p.kinds.ipv4Cidr, key, len]));
      if (r.exhausted) await r.boundary();
    }
    for (let n = r.u32(); n > 0; n--) {
      const len = r.u8();
      const key = r.str();
      const text = r.str();
      const posting = readPosting(r);
      p.v6Ranges.restore(len, key, text, posting);
      eachSlot(posting, (s) => addRef(p, s, [p.kinds.ipv6Cidr, key, len]));
      if (r.exhausted) await r.boundary();
    }
    for (let n = r.u32(); n > 0; n--) {
      const slot = r.u32();
      const high = r.u8();
      p.mixed.set(slot, { obj: JSON.parse(r.str()) as StixObject, high });
      if (r.exhausted) await r.boundary();
    }
    if (r.str() !== MAGIC) throw new SnapshotUnusable('the file does not end where the index does');
    await r.finish();
    p.domainFilter.rebuild();
    return index;
  } catch (e) {
    await r.abandon();
    if (e instanceof SnapshotUnusable) throw e;
    throw new SnapshotUnusable(`the file could not be read: ${errorMessage(e)}`);
  }
}
