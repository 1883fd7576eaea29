/**
 * Chunk size for bulk requests. Fixed, or adaptive: a hill climb over LADDER on measured
 * elements/s, moving to the faster neighbour until both neighbours are slower (QRadar consoles
 * slow down super-linearly on large loads, with "collision" warnings, so the best size is
 * console-specific). Measurements are re-taken every `reprobeEvery` chunks to follow drift.
 */

import { at } from '../../src/core/indexed.js';

export const LADDER = [50, 100, 200, 500, 1000, 2000, 5000, 10_000] as const;

export class Chunker {
  private idx: number;
  private readonly rates = new Map<number, number>();
  private readonly top: number;
  private chunks = 0;

  constructor(
    private readonly fixed: number,
    readonly adaptive: boolean,
    max = 10_000,
    private readonly reprobeEvery = 200,
    /** Milliseconds of a monotonic clock (a virtual one in tests). */
    private readonly clock: () => number = () => performance.now(),
  ) {
    this.top = Math.max(0, LADDER.filter((n) => n <= max).length - 1);
    let best = 0;
    for (let i = 0; i <= this.top; i++)
      if (Math.abs(at(LADDER, i) - fixed) < Math.abs(at(LADDER, best) - fixed)) best = i;
    this.idx = best;
  }

  /** Values to put in the next request. */
  size(): number {
    return this.adaptive ? at(LADDER, this.idx) : this.fixed;
  }

  /** Runs the request of one chunk of `n` values and reports how long it took. */
  async measure<T>(n: number, request: () => Promise<T>): Promise<T> {
    const t0 = this.clock();
    const r = await request();
    this.report(n, this.clock() - t0);
    return r;
  }

  /** Reports a request of `n` values that took `ms`; only full-size chunks move the climb. */
  report(n: number, ms: number): void {
    if (!this.adaptive || n !== LADDER[this.idx]) return;
    const rate = (n * 1000) / Math.max(ms, 0.001); // elements/s
    const old = this.rates.get(this.idx);
    const here = old === undefined ? rate : 0.5 * old + 0.5 * rate;
    this.rates.set(this.idx, here);
    if (++this.chunks % this.reprobeEvery === 0) {
      for (const k of [...this.rates.keys()]) if (k !== this.idx) this.rates.delete(k);
    }
    const up = this.idx < this.top ? this.rates.get(this.idx + 1) : -1;
    const down = this.idx > 0 ? this.rates.get(this.idx - 1) : -1;
    if (down !== undefined && down > here) this.idx--;
    else if (up !== undefined && up > here) this.idx++;
    else if (up === undefined) this.idx++;
    else if (down === undefined) this.idx--;
  }

  /** The measured elements/s per chunk size (for reports). */
  measured(): Record<number, number> {
    return Object.fromEntries([...this.rates].map(([i, r]) => [at(LADDER, i), Math.round(r)]));
  }
}
