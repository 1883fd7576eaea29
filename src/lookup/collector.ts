import { parseIpv4 } from '../core/observable.js';
import type { Observable } from '../core/stix.js';
import type { Posting } from './postings.js';
import type { IndicatorMatch, MatchKind } from './types.js';

/** What the collector needs from the index. */
export interface MatchSource {
  visible(slot: number, now: number, maxRank: number): boolean;
  /** The match as a reader of `maxRank` sees it (only its contributions). */
  match(slot: number, kind: MatchKind, matched: string, maxRank: number): IndicatorMatch;
}

/** Gathers visible matches for one looked-up value, one entry per indicator (first match wins). */
export class Collector {
  readonly out: IndicatorMatch[] = [];
  private seen: number[] | undefined;

  constructor(
    private readonly index: MatchSource,
    private readonly now: number,
    private readonly maxRank: number,
    private readonly cap: number,
  ) {}

  add(p: Posting | undefined, kind: MatchKind, matched: string): void {
    if (p === undefined) return;
    if (typeof p === 'number') this.one(p, kind, matched);
    else for (const slot of p) this.one(slot, kind, matched);
  }

  private one(slot: number, kind: MatchKind, matched: string): void {
    if (this.out.length >= this.cap || !this.index.visible(slot, this.now, this.maxRank)) return;
    if (this.out.length > 0) {
      this.seen ??= [];
      if (this.seen.includes(slot)) return;
    }
    this.seen ??= [];
    this.seen.push(slot);
    this.out.push(this.index.match(slot, kind, matched, this.maxRank));
  }
}

/**
 * The observable for input that is already canonical in the two commonest shapes (a strict dotted
 * quad; lower-case hex of a hash length), skipping the general normaliser. Anything else,
 * including any input detectObservable would change, returns undefined.
 */
export function fastCanonical(raw: string): Observable | undefined {
  const n = raw.length;
  if (n >= 7 && n <= 15 && parseIpv4(raw) !== undefined) return { type: 'ipv4-addr', value: raw };
  if (n !== 32 && n !== 40 && n !== 64 && n !== 128) return undefined;
  for (let i = 0; i < n; i++) {
    const c = raw.charCodeAt(i);
    if (!((c >= 48 && c <= 57) || (c >= 97 && c <= 102))) return undefined;
  }
  return { type: 'file', value: raw };
}
