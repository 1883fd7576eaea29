import { SingleBar, Presets } from 'cli-progress';
import type { UpsertResult } from './store/contract.js';

/** A records counter on a terminal; a no-op elsewhere. */
export function createProgress(enabled: boolean): { update(received: number, r: UpsertResult): void; stop(): void } {
  if (!enabled) return { update() {}, stop() {} };
  const bar = new SingleBar(
    {
      format: 'ingest | {records} records | {created} created {updated} updated {unchanged} unchanged | {rate}/s',
      stream: process.stderr,
      hideCursor: true,
      noTTYOutput: false,
    },
    Presets.shades_classic,
  );
  const t0 = Date.now();
  const tot = { records: 0, created: 0, updated: 0, unchanged: 0 };
  bar.start(0, 0, { ...tot, rate: 0 });
  return {
    update(received, r) {
      tot.records += received;
      tot.created += r.created;
      tot.updated += r.updated;
      tot.unchanged += r.unchanged;
      const secs = Math.max(0.001, (Date.now() - t0) / 1000);
      bar.update(0, { ...tot, rate: Math.round(tot.records / secs) });
    },
    stop() {
      bar.stop();
    },
  };
}
