/**
 * The embedded store's in-memory key indexes (ADR 0006): object id → rowid and observable value →
 * rowids, as open-addressing hash tables of 32-bit key hashes in typed arrays.
 *
 * Ids and values are random keys (UUIDv5, hashes, addresses). As on-disk B-tree indexes, every
 * insert into a large store dirtied its own leaf page, and ingest slowed as the store grew.
 * Here an insert is a few array writes, and the disk sees only appends. A table holds hashes, not
 * keys: a hit is a candidate rowid, and the caller confirms it against the row it reads (32-bit
 * hashes collide about once per 4 billion comparisons, so a false candidate is rare and harmless).
 */

/** The hash function is part of the file format: `object_keys` stores its results (schema v2). */
export function keyHash(text: string): number {
  // FNV-1a over UTF-16 code units, then murmur3's finaliser so that the low bits are well mixed
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

const MIN_CAPACITY = 1024;
const MAX_LOAD = 0.75;
/** Rowids are stored as u32; 0 marks an empty slot (SQLite rowids of this table start at 1). */
export const MAX_ROWID = 0xffffffff;

/**
 * A multi-map from 32-bit hash to rowid with linear probing and backward-shift deletion (no
 * tombstones, so a table that sees many removals does not slow down). 8 bytes per slot; the
 * table doubles at 75% load, so it costs 11-21 bytes per entry.
 */
export class KeyTable {
  private slots: Uint32Array;
  private mask: number;
  private count = 0;

  constructor(capacity = MIN_CAPACITY) {
    let cap = MIN_CAPACITY;
    while (cap < capacity / MAX_LOAD) cap *= 2;
    this.slots = new Uint32Array(cap * 2);
    this.mask = cap - 1;
  }

  get size(): number {
    return this.count;
  }

  /** Bytes held by the table. */
  get bytes(): number {
    return this.slots.byteLength;
  }

  /** Makes room for `entries` without growing again. */
  reserve(entries: number): void {
    let cap = this.mask + 1;
    while (cap * MAX_LOAD < entries) cap *= 2;
    if (cap === this.mask + 1) return;
    const old = this.slots;
    this.slots = new Uint32Array(cap * 2);
    this.mask = cap - 1;
    // slot reads below are `!`: every slot index is masked to the table (or bounded by its length)
    for (let i = 0; i < old.length; i += 2) if (old[i + 1] !== 0) this.place(old[i]!, old[i + 1]!);
  }

  /** Adds (hash, rowid). The caller does not add a pair twice (use `has` where it might). */
  add(hash: number, rowid: number): void {
    if (!(rowid >= 1 && rowid <= MAX_ROWID)) throw new RangeError(`rowid ${rowid} is outside 1..${MAX_ROWID}`);
    if (this.count + 1 > (this.mask + 1) * MAX_LOAD) this.grow();
    this.place(hash >>> 0, rowid);
    this.count++;
  }

  private place(hash: number, rowid: number): void {
    const s = this.slots;
    let i = hash & this.mask;
    while (s[i * 2 + 1] !== 0) i = (i + 1) & this.mask;
    s[i * 2] = hash;
    s[i * 2 + 1] = rowid;
  }

  private grow(): void {
    this.reserve((this.mask + 1) * 2 * MAX_LOAD);
  }

  private find(hash: number, rowid: number): number {
    const s = this.slots;
    hash >>>= 0;
    for (let i = hash & this.mask; s[i * 2 + 1] !== 0; i = (i + 1) & this.mask) {
      if (s[i * 2] === hash && s[i * 2 + 1] === rowid) return i;
    }
    return -1;
  }

  has(hash: number, rowid: number): boolean {
    return this.find(hash, rowid) !== -1;
  }

  /** Removes one (hash, rowid) pair; false when it was not there. */
  remove(hash: number, rowid: number): boolean {
    let i = this.find(hash, rowid);
    if (i === -1) return false;
    const s = this.slots;
    const mask = this.mask;
    // backward-shift: move later members of the probe run into the hole when their home allows
    for (let j = (i + 1) & mask; s[j * 2 + 1] !== 0; j = (j + 1) & mask) {
      const home = s[j * 2]! & mask;
      // j's entry may move to i when i lies cyclically in [home, j)
      if (((j - home) & mask) >= ((j - i) & mask)) {
        s[i * 2] = s[j * 2]!;
        s[i * 2 + 1] = s[j * 2 + 1]!;
        i = j;
      }
    }
    s[i * 2] = 0;
    s[i * 2 + 1] = 0;
    this.count--;
    return true;
  }

  /** Rowids stored under `hash`, appended to `out` (candidates: confirm against the row). */
  get(hash: number, out: number[] = []): number[] {
    const s = this.slots;
    hash >>>= 0;
    for (let i = hash & this.mask; s[i * 2 + 1] !== 0; i = (i + 1) & this.mask) {
      if (s[i * 2] === hash) out.push(s[i * 2 + 1]!);
    }
    return out;
  }

  clear(): void {
    this.slots = new Uint32Array(MIN_CAPACITY * 2);
    this.mask = MIN_CAPACITY - 1;
    this.count = 0;
  }

  /** The slot array as it is (for the snapshot written at close). */
  get raw(): { slots: Uint32Array; count: number } {
    return { slots: this.slots, count: this.count };
  }

  /** Takes a slot array written by `raw` (its length a power of two times 2, `count` entries). */
  restore(slots: Uint32Array, count: number): void {
    const cap = slots.length / 2;
    if (cap < MIN_CAPACITY || (cap & (cap - 1)) !== 0 || count > cap * MAX_LOAD)
      throw new RangeError(`bad key table shape: ${cap} slots, ${count} entries`);
    this.slots = slots;
    this.mask = cap - 1;
    this.count = count;
  }
}

type Undo = { table: KeyTable; add: boolean; hash: number; rowid: number };

/**
 * The two tables of a store, with an undo journal: a rolled-back transaction takes its key
 * changes back with it (a stale entry would only cost a wasted read, since every hit is
 * confirmed, but the tables stay exact).
 */
export class KeyIndex {
  readonly ids = new KeyTable();
  readonly values = new KeyTable();
  private journal: Undo[] | undefined;

  /** Starts journaling changes (call at the start of a write transaction). */
  begin(): void {
    this.journal = [];
  }

  /** The transaction committed: forget the journal. */
  commit(): void {
    this.journal = undefined;
  }

  /** The transaction rolled back: undo its changes, newest first. */
  rollback(): void {
    const j = this.journal;
    this.journal = undefined;
    if (!j) return;
    for (const u of j.reverse()) {
      if (u.add) u.table.remove(u.hash, u.rowid);
      else u.table.add(u.hash, u.rowid);
    }
  }

  add(table: KeyTable, hash: number, rowid: number): void {
    table.add(hash, rowid);
    this.journal?.push({ table, add: true, hash, rowid });
  }

  remove(table: KeyTable, hash: number, rowid: number): void {
    if (table.remove(hash, rowid)) this.journal?.push({ table, add: false, hash, rowid });
  }

  clear(): void {
    this.ids.clear();
    this.values.clear();
    this.journal = undefined;
  }
}
