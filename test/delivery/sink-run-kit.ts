import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openEmbeddedStore } from '../../src/store/embedded/index.js';
import { runSink, type SinkRunOptions } from '../../src/delivery/runner.js';
import { DeadLetterFile } from '../../src/delivery/dead-letter.js';
import { checkSinkMapping } from '../../src/delivery/records.js';
import type { CommonSinkConfig, Sink, SinkOutcome, SinkRecord } from '../../src/delivery/types.js';
import { indicatorFromObservable } from '../../src/core/indicator.js';
import { detectObservable } from '../../src/core/observable.js';
import type { StixObject, TlpLevel } from '../../src/core/stix.js';
import { Metrics } from '../../src/telemetry/metrics.js';
import { must } from '../helpers/must.js';
import { offlinePush } from '../helpers/offline-run.js';
import { commonConfig } from '../helpers/sink-kit.js';

/**
 * The sink runner's test bench: an embedded store in a temporary directory, a remote system in
 * memory with scripted failures (FakeSink), and `run` / `put` bound to them.
 */

export const NOW = Date.parse('2026-03-01T12:00:00Z');
export const iso = (ms: number) => new Date(ms).toISOString();

export function config(over: Partial<CommonSinkConfig> = {}): CommonSinkConfig {
  return commonConfig('fake', {
    timeout_secs: 5,
    retry: { max_attempts: 4, base_delay_secs: 0.001, max_delay_secs: 0.01 },
    ...over,
  });
}

export function ind(value: string, extra: Partial<StixObject> = {}): StixObject {
  const r = detectObservable(value);
  if (!r.ok) throw new Error(value);
  return { ...indicatorFromObservable(r.observable, { now: iso(NOW - 1000) }), ...extra };
}

/** A remote system in memory: a map key → fields, with scripted failures. */
export class FakeSink implements Sink {
  limits = { maxBatch: 3, concurrency: 1 };
  remoteTtlMs?: number;
  held = new Map<string, Record<string, unknown>>();
  calls: { op: string; keys: string[] }[] = [];
  script: ((records: SinkRecord[], op: string) => SinkOutcome[] | Error | undefined)[] = [];
  prepared = 0;
  async prepare() {
    this.prepared++;
  }
  private apply(op: 'upsert' | 'remove', records: SinkRecord[]): SinkOutcome[] {
    this.calls.push({ op, keys: records.map((r) => r.observable.value) });
    const step = this.script.shift()?.(records, op);
    if (step instanceof Error) throw step;
    const outcomes = step ?? records.map((): SinkOutcome => ({ status: 'ok' }));
    records.forEach((r, i) => {
      if (must(outcomes[i], 'outcomes[i]').status !== 'ok') return;
      if (op === 'upsert') this.held.set(r.observable.value, r.fields);
      else this.held.delete(r.observable.value);
    });
    return outcomes;
  }
  async upsert(records: SinkRecord[]) {
    return this.apply('upsert', records);
  }
  async remove(records: SinkRecord[]) {
    return this.apply('remove', records);
  }
}

export async function setup(t: { after: (fn: () => Promise<void> | void) => void }) {
  const dir = mkdtempSync(join(tmpdir(), 'stixgate-sink-'));
  const store = await openEmbeddedStore({ dataDir: dir });
  t.after(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const sink = new FakeSink();
  const metrics = new Metrics({ defaults: false });
  const dlq = new DeadLetterFile(join(dir, 'dead-letter', 'fake.jsonl'));
  const mapping = checkSinkMapping(
    { fields: { value: 'value', score: 'score', tlp: 'tlp', kind: '=ioc' } },
    'test',
  ).fields;
  const run = (over: Partial<SinkRunOptions> = {}) =>
    runSink({
      ...offlinePush({ id: 'fake', sink, config: config(), store, metrics, mapping, deadLetter: dlq, now: () => NOW }),
      ...over,
    });
  const put = (objects: StixObject[], source = 'feed', confidence = 70, tlp?: TlpLevel) =>
    store.upsert(
      objects.map((object) => ({ object, source, confidence, ...(tlp ? { tlp } : {}) })),
      { now: NOW },
    );
  return { dir, store, sink, metrics, dlq, run, put };
}
