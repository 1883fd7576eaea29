import { addPosting, removePosting, type Posting } from './postings.js';

/**
 * IPv4 ranges: one Map per prefix length from the network address (as int32) to the slots
 * listing it. "Which listed ranges contain this IP" is one Map probe per prefix length in use,
 * most specific first (at most 33).
 */
export class Ipv4Ranges {
  private readonly byLen: (Map<number, Posting> | undefined)[] = new Array(33).fill(undefined);
  /** Prefix lengths in use, longest first. */
  private lens: number[] = [];
  size = 0;

  add(network: number, len: number, slot: number): number {
    let m = this.byLen[len];
    if (!m) {
      m = new Map();
      this.byLen[len] = m;
      this.lens = activeLens(this.byLen);
    }
    const key = maskV4(network, len);
    const before = m.size;
    addPosting(m, key, slot);
    this.size += m.size - before;
    return key;
  }

  remove(key: number, len: number, slot: number): void {
    const m = this.byLen[len];
    if (!m) return;
    const before = m.size;
    removePosting(m, key, slot);
    this.size -= before - m.size;
    if (m.size === 0) {
      this.byLen[len] = undefined;
      this.lens = activeLens(this.byLen);
    }
  }

  /** Calls `visit(slotPosting, network, len)` for each listed range containing `ip`. */
  containing(ip: number, visit: (p: Posting, network: number, len: number) => void): void {
    for (const len of this.lens) {
      const key = maskV4(ip, len);
      const p = this.byLen[len]!.get(key);
      if (p !== undefined) visit(p, key, len);
    }
  }
}

/** IPv6 ranges: per prefix length, a Map from the masked address (hex words) to the slots. */
export class Ipv6Ranges {
  private readonly byLen: (Map<string, Posting> | undefined)[] = new Array(129).fill(undefined);
  private lens: number[] = [];
  /** `len/key` → the canonical CIDR text, for `matched_value`. */
  private readonly text = new Map<string, string>();
  size = 0;

  add(words: Uint16Array, len: number, value: string, slot: number): string {
    let m = this.byLen[len];
    if (!m) {
      m = new Map();
      this.byLen[len] = m;
      this.lens = activeLens(this.byLen);
    }
    const key = maskV6(words, len);
    const before = m.size;
    addPosting(m, key, slot);
    if (m.size > before) {
      this.size++;
      this.text.set(`${len}/${key}`, value);
    }
    return key;
  }

  remove(key: string, len: number, slot: number): void {
    const m = this.byLen[len];
    if (!m) return;
    const before = m.size;
    removePosting(m, key, slot);
    if (m.size < before) {
      this.size--;
      this.text.delete(`${len}/${key}`);
    }
    if (m.size === 0) {
      this.byLen[len] = undefined;
      this.lens = activeLens(this.byLen);
    }
  }

  containing(ip: Uint16Array, visit: (p: Posting, value: string) => void): void {
    for (const len of this.lens) {
      const key = maskV6(ip, len);
      const p = this.byLen[len]!.get(key);
      if (p !== undefined) visit(p, this.text.get(`${len}/${key}`) ?? key);
    }
  }
}

export function maskV4(ip: number, len: number): number {
  if (len === 0) return 0;
  return (ip & (-1 << (32 - len))) | 0;
}

export function maskV6(words: Uint16Array, len: number): string {
  let out = '';
  const full = len >>> 4;
  for (let i = 0; i < full; i++) out += words[i].toString(16) + ':';
  const rest = len & 15;
  if (rest) out += (words[full] & (0xffff << (16 - rest)) & 0xffff).toString(16);
  return out;
}

export function formatIpv4(n: number): string {
  return `${(n >>> 24) & 255}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

function activeLens(byLen: readonly (Map<unknown, unknown> | undefined)[]): number[] {
  const out: number[] = [];
  for (let len = byLen.length - 1; len >= 0; len--) if (byLen[len]) out.push(len);
  return out;
}
