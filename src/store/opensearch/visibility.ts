/**
 * Change-log reads without forced refreshes (docs/adr/0023-per-writer-change-log.md). Every
 * position at or below a horizon was acknowledged before the horizon was read; the objects
 * index's periodic refresh makes it searchable within `refresh_interval`. A reader therefore
 * reads up to the newest horizon it saw at least `refresh_interval` + a margin ago.
 */

/** Time allowed for a periodic refresh to finish after it is due. */
export const REFRESH_MARGIN_MS = 1000;

/** The lag for a `refresh_interval` value; undefined for `-1` (no periodic refresh: readers must refresh). */
export function refreshLagMs(interval: string): number | undefined {
  const m = /^(\d+)(ms|s|m)$/.exec(interval);
  if (!m) return undefined;
  const n = Number(m[1]);
  const ms = m[2] === 'ms' ? n : m[2] === 's' ? n * 1000 : n * 60_000;
  return ms + REFRESH_MARGIN_MS;
}

/** Horizons seen, with when: at most one kept per horizon value, pruned as they become readable. */
export class HorizonLag {
  private seen: { at: number; horizon: number }[] = [];
  private readableHorizon = 0;

  constructor(readonly lagMs: number) {}

  /** Marks everything up to `horizon` readable now (the caller refreshed the index after reading it). */
  prime(horizon: number): void {
    this.readableHorizon = Math.max(this.readableHorizon, horizon);
  }

  /** Records `horizon` seen at `now` and returns the highest horizon seen at least lagMs ago. */
  readable(horizon: number, now: number): number {
    const lastSeen = this.seen.at(-1);
    if (horizon > (lastSeen?.horizon ?? this.readableHorizon)) this.seen.push({ at: now, horizon });
    let i = 0;
    while (i < this.seen.length && (this.seen[i]?.at ?? now) <= now - this.lagMs) {
      this.readableHorizon = Math.max(this.readableHorizon, this.seen[i]?.horizon ?? 0);
      i++;
    }
    if (i > 0) this.seen = this.seen.slice(i);
    // memory stays bounded: one sample per poll that moved the horizon, within the lag window
    if (this.seen.length > 10_000) this.seen = this.seen.slice(-10_000);
    return this.readableHorizon;
  }
}
