import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Bottleneck from 'bottleneck';
import { openEmbeddedStore } from '../../src/store/embedded/index.js';
import { runSink } from '../../src/delivery/runner.js';
import { reconcileSink, type ReconcileOptions, type ReconcileResult } from '../../src/delivery/reconcile.js';
import { DeadLetterFile } from '../../src/delivery/dead-letter.js';
import type { StixObject } from '../../src/core/stix.js';
import type { CommonSinkConfig, Sink, SinkDefinition } from '../../src/delivery/types.js';
import { loadSinkMapping } from '../../src/delivery/records.js';
import type { IntegrationContext } from '../../src/pipeline/types.js';
import type { ClosableHttpClient } from '../../src/http/client.js';
import { Metrics } from '../../src/telemetry/metrics.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import type { After } from './sink-kit.js';

/**
 * Set-up of the reconcile tests (integrations/<sink>/reconcile.test.ts): an embedded store, the
 * sink under the push runner and under reconcile, sharing one limiter, as a daemon runs them.
 */
export async function reconcileBench(
  t: After,
  o: { sink: Sink; config: CommonSinkConfig; mapping: Record<string, string>; http: ClosableHttpClient; now: number },
) {
  const dir = mkdtempSync(join(tmpdir(), 'stixgate-reconcile-test-'));
  const store = await openEmbeddedStore({ dataDir: dir });
  t.after(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const metrics = new Metrics({ defaults: false });
  const limiter = new Bottleneck({ maxConcurrent: 2 });
  const base = {
    id: 'sut',
    sink: o.sink,
    config: o.config,
    store,
    http: o.http,
    logger: silentLogger(),
    mapping: o.mapping,
    deadLetter: new DeadLetterFile(join(dir, 'dead-letter', 'sut.jsonl')),
    limiter,
    signal: new AbortController().signal,
    now: () => o.now,
    metrics,
  };
  const put = (objects: StixObject[]) =>
    store.upsert(
      objects.map((object) => ({ object, source: 'feed_a', confidence: 70 })),
      { now: o.now },
    );
  const push = () => runSink(base);
  const plan = (over: Partial<ReconcileOptions> = {}): Promise<ReconcileResult> =>
    reconcileSink({ ...base, apply: false, tmpDir: dir, ...over });
  const reconcile = (over: Partial<ReconcileOptions> = {}): Promise<ReconcileResult> =>
    reconcileSink({ ...base, apply: true, tmpDir: dir, ...over });
  /** The labels of each kind, sorted (what a plan lists). */
  const listed = (r: ReconcileResult) =>
    Object.fromEntries(Object.entries(r.items).map(([k, v]) => [k, v.map((i) => i.label).sort()]));
  const gauge = async (kind: string) =>
    (await metrics.sinkDrift.get()).values.find((v) => v.labels.kind === kind)?.value;
  return { store, put, push, plan, reconcile, listed, metrics, gauge, dir };
}

/**
 * reconcileBench for a sink integration: the sink its definition creates from `config`, with the
 * default mapping table of the sink type (mappings/sinks/<type>.yaml).
 */
export function sinkReconcileBench<C>(
  t: After,
  o: {
    def: SinkDefinition<C>;
    config: C & CommonSinkConfig;
    ctx: IntegrationContext;
    http: ClosableHttpClient;
    now: number;
  },
) {
  return reconcileBench(t, {
    sink: o.def.create(o.config, o.ctx),
    config: o.config,
    mapping: loadSinkMapping(join(o.ctx.mappingsDir, 'sinks', `${o.config.type}.yaml`)).fields,
    http: o.http,
    now: o.now,
  });
}
