/**
 * Per-indicator data in typed-array columns indexed by a small integer slot, plus an
 * open-addressing hash table from the indicator's UUID (four uint32 words held in the columns)
 * to its slot. Together they cost a few dozen bytes per indicator instead of an object, a
 * Map entry and a 49-character id string.
 */

const ID_PREFIX = 'indicator--';
const NONE = Number.NaN;

/**
 * One 56-byte record per slot in a single ArrayBuffer, so a hit touches one or two cache lines:
 *   f64[0..2]  first_seen, last_seen, valid_until (epoch ms, NaN = none)
 *   u32[6..9]  the id's UUID as four words
 *   u32[10]    interned labels list, u32[11] interned sources list
 *   u32[12]    used (bits 0-7) | tlp rank (8-15) | score (16-23, 255 = none) | listing kind (24-31)
 *   u32[13]    sightings reported (count)
 */
const F = 7;
const U = 14;
/** Bytes per slot in the column buffer (`columns()`). */
export const SLOT_BYTES = U * 4;

/**
 * Reads of `u32`, `f64` and `table` carry `!`: slot numbers come from this table (below `end`,
 * within `capacity`), and table positions are masked to its power-of-two length.
 */
export class SlotTable {
  capacity = 0;
  /** One past the highest slot ever used. */
  end = 0;
  live = 0;
  private buf = new ArrayBuffer(0);
  private f64 = new Float64Array(0);
  private u32 = new Uint32Array(0);
  /** What the slot is listed under: one key, or a list of [kind, key, len] (see LookupIndex). */
  refs: unknown[] = [];
  private readonly free: number[] = [];
  /** Ids that are not lower-case `indicator--<uuid>`: kept as strings. */
  private readonly oddIds = new Map<number, string>();
  private readonly oddBySlotId = new Map<string, number>();
  private table = new Int32Array(1024);
  private readonly scratch = new Uint32Array(4);
  private tableCount = 0;

  constructor(initialCapacity = 1024) {
    this.grow(initialCapacity);
  }

  used(slot: number): boolean {
    return (this.u32[slot * U + 12]! & 255) === 1;
  }
  tlp(slot: number): number {
    return (this.u32[slot * U + 12]! >>> 8) & 255;
  }
  score(slot: number): number {
    return (this.u32[slot * U + 12]! >>> 16) & 255;
  }
  kind(slot: number): number {
    return this.u32[slot * U + 12]! >>> 24;
  }
  labels(slot: number): number {
    return this.u32[slot * U + 10]!;
  }
  sources(slot: number): number {
    return this.u32[slot * U + 11]!;
  }
  sightings(slot: number): number {
    return this.u32[slot * U + 13]!;
  }
  firstSeen(slot: number): number {
    return this.f64[slot * F]!;
  }
  lastSeen(slot: number): number {
    return this.f64[slot * F + 1]!;
  }
  validUntil(slot: number): number {
    return this.f64[slot * F + 2]!;
  }
  /** True when the slot is used, at or below `maxTlp` and still valid at `now`. */
  visible(slot: number, now: number, maxTlp: number): boolean {
    const flags = this.u32[slot * U + 12]!;
    return (flags & 255) === 1 && ((flags >>> 8) & 255) <= maxTlp && !(this.f64[slot * F + 2]! <= now);
  }

  setMeta(
    slot: number,
    m: {
      tlp: number;
      score: number;
      labels: number;
      sources: number;
      firstSeen: number;
      lastSeen: number;
      validUntil: number;
      sightings: number;
    },
  ): void {
    const u = slot * U;
    const f = slot * F;
    this.f64[f] = m.firstSeen;
    this.f64[f + 1] = m.lastSeen;
    this.f64[f + 2] = m.validUntil;
    this.u32[u + 10] = m.labels;
    this.u32[u + 11] = m.sources;
    this.u32[u + 13] = Math.min(0xffffffff, Math.max(0, Math.trunc(m.sightings)));
    this.u32[u + 12] = ((this.u32[u + 12]! & 0xff0000ff) | (m.tlp << 8) | (m.score << 16)) >>> 0;
  }

  setKind(slot: number, kind: number): void {
    const u = slot * U + 12;
    this.u32[u] = ((this.u32[u]! & 0x00ffffff) | (kind << 24)) >>> 0;
  }

  /** The slot of `id`, or -1. */
  find(id: string): number {
    const w = this.scratch;
    if (!uuidWords(id, w)) return this.oddBySlotId.get(id) ?? -1;
    const mask = this.table.length - 1;
    for (let i = hash4(w[0]!, w[1]!, w[2]!, w[3]!) & mask; ; i = (i + 1) & mask) {
      const v = this.table[i]!;
      if (v === 0) return -1;
      const s = v - 1;
      const o = s * U + 6;
      if (this.u32[o] === w[0] && this.u32[o + 1] === w[1] && this.u32[o + 2] === w[2] && this.u32[o + 3] === w[3])
        return s;
    }
  }

  /** A new slot for `id` (which must not be present). Columns are reset to "none". */
  allocate(id: string): number {
    const slot = this.free.pop() ?? this.end++;
    if (slot >= this.capacity) this.grow(this.capacity * 2);
    this.u32.fill(0, slot * U, slot * U + U);
    this.u32[slot * U + 12] = 1 | (255 << 16);
    this.f64[slot * F] = NONE;
    this.f64[slot * F + 1] = NONE;
    this.f64[slot * F + 2] = NONE;
    this.refs[slot] = undefined;
    this.live++;
    const w = this.scratch;
    if (!uuidWords(id, w)) {
      const own = ` ${id}`.slice(1);
      this.oddIds.set(slot, own);
      this.oddBySlotId.set(own, slot);
      return slot;
    }
    this.u32.set(w, slot * U + 6);
    if ((this.tableCount + 1) * 2 > this.table.length) this.rehash(this.table.length * 2);
    this.insert(slot);
    return slot;
  }

  release(slot: number): void {
    if (!this.used(slot)) return;
    const odd = this.oddIds.get(slot);
    if (odd !== undefined) {
      this.oddIds.delete(slot);
      this.oddBySlotId.delete(odd);
    } else this.unlink(slot);
    this.u32[slot * U + 12] = 0;
    this.refs[slot] = undefined;
    this.free.push(slot);
    this.live--;
  }

  idOf(slot: number): string {
    const odd = this.oddIds.get(slot);
    if (odd !== undefined) return odd;
    const o = slot * U + 6;
    const a = hex8(this.u32[o]!);
    const b = hex8(this.u32[o + 1]!);
    const c = hex8(this.u32[o + 2]!);
    const d = hex8(this.u32[o + 3]!);
    return `${ID_PREFIX}${a}-${b.slice(0, 4)}-${b.slice(4)}-${c.slice(0, 4)}-${c.slice(4)}${d}`;
  }

  /** The columns of slots [0, end) as bytes, for the lookup snapshot (snapshot.ts). */
  columns(): Uint8Array {
    return new Uint8Array(this.buf, 0, this.end * U * 4);
  }

  /** Released slots awaiting reuse, and the ids kept as strings: for the lookup snapshot. */
  spare(): { free: readonly number[]; odd: ReadonlyMap<number, string> } {
    return { free: this.free, odd: this.oddIds };
  }

  /**
   * Replaces the contents with a snapshot's: the columns of slots [0, end) (as written by
   * `columns()`), the released slots and the string ids. The id hash table is rebuilt.
   */
  restore(columns: Uint8Array, end: number, free: readonly number[], odd: ReadonlyMap<number, string>): void {
    if (columns.byteLength !== end * U * 4)
      throw new RangeError(`slot columns hold ${columns.byteLength} bytes, not ${end * U * 4}`);
    let capacity = 1024;
    while (capacity < end) capacity *= 2;
    this.buf = new ArrayBuffer(0);
    this.grow(capacity);
    new Uint8Array(this.buf).set(columns);
    this.end = end;
    this.refs = new Array(end);
    this.free.length = 0;
    this.free.push(...free);
    this.oddIds.clear();
    this.oddBySlotId.clear();
    for (const [slot, id] of odd) {
      this.oddIds.set(slot, id);
      this.oddBySlotId.set(id, slot);
    }
    let live = 0;
    for (let s = 0; s < end; s++) if (this.used(s)) live++;
    this.live = live;
    let size = 1024;
    while (size < live * 2) size *= 2;
    this.rehash(size);
  }

  private homeOf(slot: number, mask: number): number {
    const o = slot * U + 6;
    return hash4(this.u32[o]!, this.u32[o + 1]!, this.u32[o + 2]!, this.u32[o + 3]!) & mask;
  }

  private insert(slot: number): void {
    const mask = this.table.length - 1;
    let i = this.homeOf(slot, mask);
    while (this.table[i] !== 0) i = (i + 1) & mask;
    this.table[i] = slot + 1;
    this.tableCount++;
  }

  /** Removes `slot` from the hash table with backward-shift deletion (no tombstones). */
  private unlink(slot: number): void {
    const mask = this.table.length - 1;
    let i = this.homeOf(slot, mask);
    while (this.table[i] !== slot + 1) {
      if (this.table[i] === 0) return;
      i = (i + 1) & mask;
    }
    this.table[i] = 0;
    this.tableCount--;
    for (let j = (i + 1) & mask; this.table[j] !== 0; j = (j + 1) & mask) {
      const home = this.homeOf(this.table[j]! - 1, mask);
      // move the entry at j into the hole at i when its home is not in the cyclic range (i, j]
      if ((j > i && (home <= i || home > j)) || (j < i && home <= i && home > j)) {
        this.table[i] = this.table[j]!;
        this.table[j] = 0;
        i = j;
      }
    }
  }

  private rehash(size: number): void {
    this.table = new Int32Array(size);
    this.tableCount = 0;
    for (let s = 0; s < this.end; s++) if (this.used(s) && !this.oddIds.has(s)) this.insert(s);
  }

  private grow(capacity: number): void {
    const buf = new ArrayBuffer(capacity * F * 8);
    new Uint8Array(buf).set(new Uint8Array(this.buf));
    this.buf = buf;
    this.f64 = new Float64Array(buf);
    this.u32 = new Uint32Array(buf);
    this.capacity = capacity;
  }
}

/** Value of a lower-case hex digit's char code, or -1. */
function hexDigit(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

/**
 * Writes the UUID of a lower-case `indicator--xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` id (hex
 * digits 0-9a-f only) into `out` as four words. False, with `out` undefined, for any other id.
 */
export function uuidWords(id: string, out: Uint32Array): boolean {
  if (id.length !== 47 || !id.startsWith(ID_PREFIX)) return false;
  let word = 0;
  let k = 0;
  let n = 0;
  for (let i = 11; i < 47; i++) {
    const c = id.charCodeAt(i);
    if (i === 19 || i === 24 || i === 29 || i === 34) {
      if (c !== 45) return false;
      continue;
    }
    const d = hexDigit(c);
    if (d < 0) return false;
    word = (word << 4) | d;
    if (++n === 8) {
      out[k++] = word >>> 0;
      word = 0;
      n = 0;
    }
  }
  return true;
}

function hash4(a: number, b: number, c: number, d: number): number {
  let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b);
  h = Math.imul(h ^ b ^ (h >>> 15), 0xc2b2ae35);
  h = Math.imul(h ^ c ^ (h >>> 13), 0x85ebca6b);
  h = Math.imul(h ^ d ^ (h >>> 16), 0xc2b2ae35);
  return (h ^ (h >>> 15)) >>> 0;
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

function hex8(n: number): string {
  return `${HEX[n >>> 24]}${HEX[(n >>> 16) & 255]}${HEX[(n >>> 8) & 255]}${HEX[n & 255]}`; // HEX covers every byte value
}
