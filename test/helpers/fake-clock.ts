/**
 * A clock for code that takes its time and its timers by injection (`now`, `timers`): time moves
 * only when the test moves it, while real I/O (loopback servers, the store's thread) runs as
 * usual. Unlike node:test's mock.timers it leaves the process's own timers alone, so the HTTP
 * client, the store and the test's servers keep working.
 */
export class FakeClock {
  private ms: number;
  private seq = 0;
  private readonly pending = new Map<number, { at: number; fn: () => void }>();

  constructor(start = Date.parse('2026-03-01T12:00:00.000Z')) {
    this.ms = start;
  }

  readonly now = (): number => this.ms;

  /** Timers on this clock (the shape the code under test takes). */
  readonly timers = {
    setTimeout: (fn: () => void, ms: number): number => {
      const id = ++this.seq;
      this.pending.set(id, { at: this.ms + Math.max(0, ms), fn });
      return id;
    },
    clearTimeout: (id: unknown): void => {
      this.pending.delete(id as number);
    },
  };

  /** Timers not yet fired. */
  get pendingTimers(): number {
    return this.pending.size;
  }

  /** Moves the clock `ms` forward, firing on the way, in time order, the timers that fall due. */
  advance(ms: number): void {
    const end = this.ms + ms;
    for (let t = this.earliest(); t !== undefined && t.at <= end; t = this.earliest()) this.fire(t.id);
    this.ms = end;
  }

  /** Moves the clock to the earliest pending timer and fires it; false when no timer is pending. */
  fireNext(): boolean {
    const t = this.earliest();
    if (t === undefined) return false;
    this.fire(t.id);
    return true;
  }

  /**
   * Awaits `p`, moving the clock to the next timer each time `p` has made no progress for a few
   * turns of the event loop. The clock never passes a timer without firing it, so every interval
   * the code measures on this clock is exact; when real I/O is slow (a loaded machine), time may
   * move on while it is in flight, which only ever lengthens what the code sees.
   */
  async run<T>(p: Promise<T>): Promise<T> {
    let settled = false;
    const watched = p.finally(() => {
      settled = true;
    });
    watched.catch(() => undefined);
    while (!settled) {
      // real zero-delay timers (libraries queue work on them) and check-phase turns run first
      for (let i = 0; i < 3 && !settled; i++) await new Promise<void>((r) => setTimeout(r, 0));
      for (let i = 0; i < 20 && !settled; i++) await new Promise<void>((r) => setImmediate(r));
      if (!settled && !this.fireNext()) await new Promise<void>((r) => setTimeout(r, 1));
    }
    return watched;
  }

  private earliest(): { id: number; at: number } | undefined {
    let best: { id: number; at: number } | undefined;
    for (const [id, t] of this.pending) if (best === undefined || t.at < best.at) best = { id, at: t.at };
    return best;
  }

  private fire(id: number): void {
    const t = this.pending.get(id);
    if (t === undefined) return;
    this.pending.delete(id);
    this.ms = Math.max(this.ms, t.at);
    t.fn();
  }
}
