/**
 * Per-indicator data in typed-array columns indexed by a small integer slot, plus an
 * open-addressing hash table from the indicator's UUID (four uint32 words held in the columns)
 * to its slot. Together they cost a few dozen bytes per indicator instead of an object, a
 * Map entry and a 49-character id string.
 */

const ID_PREFIX = 'indicator--';
const UUID_RE = /^indicator--([0-9a-f]{8})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{12})$/;
const NONE = Number.NaN;

export class SlotTable {
  capacity = 0;
  /** One past the highest slot ever used. */
  end = 0;
  live = 0;
  uuid = new Uint32Array(0);
  /** 1 when the slot is in use. */
  used = new Uint8Array(0);
  /** 255 = no score. */
  score = new Uint8Array(0);
  tlp = new Uint8Array(0);
  labels = new Uint32Array(0);
  sources = new Uint32Array(0);
  firstSeen = new Float64Array(0);
  lastSeen = new Float64Array(0);
  validUntil = new Float64Array(0);
  /** What the slot is listed under: one key, or a list of [kind, key] pairs (see LookupIndex). */
  refs: unknown[] = [];
  private readonly free: number[] = [];
  /** Ids that are not lower-case `indicator--<uuid>`: kept as strings. */
  private readonly oddIds = new Map<number, string>();
  private readonly oddBySlotId = new Map<string, number>();
  private table = new Int32Array(1024);
  private tableCount = 0;

  constructor(initialCapacity = 1024) {
    this.grow(initialCapacity);
  }

  /** The slot of `id`, or -1. */
  find(id: string): number {
    const m = UUID_RE.exec(id);
    if (!m) return this.oddBySlotId.get(id) ?? -1;
    const w = words(m);
    const mask = this.table.length - 1;
    for (let i = hash4(w[0], w[1], w[2], w[3]) & mask; ; i = (i + 1) & mask) {
      const v = this.table[i];
      if (v === 0) return -1;
      const s = v - 1;
      const o = s * 4;
      if (this.uuid[o] === w[0] && this.uuid[o + 1] === w[1] && this.uuid[o + 2] === w[2] && this.uuid[o + 3] === w[3]) return s;
    }
  }

  /** A new slot for `id` (which must not be present). Columns are reset to "none". */
  allocate(id: string): number {
    const slot = this.free.pop() ?? this.end++;
    if (slot >= this.capacity) this.grow(this.capacity * 2);
    this.used[slot] = 1;
    this.score[slot] = 255;
    this.tlp[slot] = 0;
    this.labels[slot] = 0;
    this.sources[slot] = 0;
    this.firstSeen[slot] = NONE;
    this.lastSeen[slot] = NONE;
    this.validUntil[slot] = NONE;
    this.refs[slot] = undefined;
    this.live++;
    const m = UUID_RE.exec(id);
    if (!m) {
      const own = (' ' + id).slice(1);
      this.oddIds.set(slot, own);
      this.oddBySlotId.set(own, slot);
      return slot;
    }
    const w = words(m);
    this.uuid.set(w, slot * 4);
    if ((this.tableCount + 1) * 2 > this.table.length) this.rehash(this.table.length * 2);
    this.insert(slot);
    return slot;
  }

  release(slot: number): void {
    if (!this.used[slot]) return;
    const odd = this.oddIds.get(slot);
    if (odd !== undefined) {
      this.oddIds.delete(slot);
      this.oddBySlotId.delete(odd);
    } else this.unlink(slot);
    this.used[slot] = 0;
    this.refs[slot] = undefined;
    this.free.push(slot);
    this.live--;
  }

  idOf(slot: number): string {
    const odd = this.oddIds.get(slot);
    if (odd !== undefined) return odd;
    const o = slot * 4;
    const a = hex8(this.uuid[o]);
    const b = hex8(this.uuid[o + 1]);
    const c = hex8(this.uuid[o + 2]);
    const d = hex8(this.uuid[o + 3]);
    return `${ID_PREFIX}${a}-${b.slice(0, 4)}-${b.slice(4)}-${c.slice(0, 4)}-${c.slice(4)}${d}`;
  }

  private insert(slot: number): void {
    const o = slot * 4;
    const mask = this.table.length - 1;
    let i = hash4(this.uuid[o], this.uuid[o + 1], this.uuid[o + 2], this.uuid[o + 3]) & mask;
    while (this.table[i] !== 0) i = (i + 1) & mask;
    this.table[i] = slot + 1;
    this.tableCount++;
  }

  /** Removes `slot` from the hash table with backward-shift deletion (no tombstones). */
  private unlink(slot: number): void {
    const o = slot * 4;
    const mask = this.table.length - 1;
    let i = hash4(this.uuid[o], this.uuid[o + 1], this.uuid[o + 2], this.uuid[o + 3]) & mask;
    while (this.table[i] !== slot + 1) {
      if (this.table[i] === 0) return;
      i = (i + 1) & mask;
    }
    this.table[i] = 0;
    this.tableCount--;
    for (let j = (i + 1) & mask; this.table[j] !== 0; j = (j + 1) & mask) {
      const s = this.table[j] - 1;
      const p = s * 4;
      const home = hash4(this.uuid[p], this.uuid[p + 1], this.uuid[p + 2], this.uuid[p + 3]) & mask;
      // move the entry at j into the hole at i when its home is not in the cyclic range (i, j]
      if ((j > i && (home <= i || home > j)) || (j < i && home <= i && home > j)) {
        this.table[i] = this.table[j];
        this.table[j] = 0;
        i = j;
      }
    }
  }

  private rehash(size: number): void {
    this.table = new Int32Array(size);
    this.tableCount = 0;
    for (let s = 0; s < this.end; s++) if (this.used[s] && !this.oddIds.has(s)) this.insert(s);
  }

  private grow(capacity: number): void {
    const copy = <T extends { length: number; set(a: T): void }>(old: T, make: (n: number) => T, per = 1): T => {
      const next = make(capacity * per);
      next.set(old);
      return next;
    };
    this.uuid = copy(this.uuid, (n) => new Uint32Array(n), 4);
    this.used = copy(this.used, (n) => new Uint8Array(n));
    this.score = copy(this.score, (n) => new Uint8Array(n));
    this.tlp = copy(this.tlp, (n) => new Uint8Array(n));
    this.labels = copy(this.labels, (n) => new Uint32Array(n));
    this.sources = copy(this.sources, (n) => new Uint32Array(n));
    this.firstSeen = copy(this.firstSeen, (n) => new Float64Array(n));
    this.lastSeen = copy(this.lastSeen, (n) => new Float64Array(n));
    this.validUntil = copy(this.validUntil, (n) => new Float64Array(n));
    this.capacity = capacity;
  }
}

function words(m: RegExpExecArray): [number, number, number, number] {
  return [
    parseInt(m[1], 16) >>> 0,
    parseInt(m[2] + m[3], 16) >>> 0,
    parseInt(m[4] + m[5].slice(0, 4), 16) >>> 0,
    parseInt(m[5].slice(4), 16) >>> 0,
  ];
}

function hash4(a: number, b: number, c: number, d: number): number {
  let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b);
  h = Math.imul(h ^ b ^ (h >>> 15), 0xc2b2ae35);
  h = Math.imul(h ^ c ^ (h >>> 13), 0x85ebca6b);
  h = Math.imul(h ^ d ^ (h >>> 16), 0xc2b2ae35);
  return (h ^ (h >>> 15)) >>> 0;
}

function hex8(n: number): string {
  return n.toString(16).padStart(8, '0');
}
