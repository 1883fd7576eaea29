import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Bottleneck from 'bottleneck';
import { tempStore } from '../../test/helpers/enrich-loopback.js';
import { runSink } from '../../src/delivery/runner.js';
import { DeadLetterFile } from '../../src/delivery/dead-letter.js';
import { loadSinkMapping } from '../../src/delivery/records.js';
import type { SinkDefinition } from '../../src/delivery/types.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { splunkEsSink, splunkHecSink, splunkKvSink } from './index.js';
import {
  commonConfig,
  HEC_ACK_TOKEN,
  ictx,
  indicator,
  ips,
  kvConfig,
  NOW,
  runContext,
  startSim,
} from './sink-test-kit.js';
import { must } from '../../test/helpers/must.js';

/** The three sinks driven by the engine's sink runner over a real store and change log. */

const ES = 'DA-ESS-ThreatIntelligence';

test('sink runner → Splunk sinks: every value pushed within the limits, a revocation removes it, a second run sends nothing', async (t) => {
  const { store, dir, cleanup } = await tempStore();
  t.after(cleanup);
  const { sim, base } = await startSim(t);
  const ctx = runContext(t);
  const objects = [...ips(2100), 'evil.example', 'http://evil.example/a', 'a'.repeat(64)].map((v) => indicator(v));
  await store.upsert(
    objects.map((object) => ({ object: { ...object, x_stixgate: undefined }, source: 'feed', confidence: 70 })),
    { now: NOW },
  );

  const sinks: [SinkDefinition, Record<string, unknown>][] = [
    [splunkKvSink, { ...kvConfig(base) }],
    [
      splunkEsSink,
      {
        url: base,
        auth: { username: 'admin', password: 'changeme' },
        owner: 'nobody',
        app: ES,
        max_documents_per_batch_save: 1000,
        max_keys_per_delete: 50,
      },
    ],
    [
      splunkHecSink,
      {
        url: base,
        token: HEC_ACK_TOKEN,
        sourcetype: 'stixgate:indicator',
        source: 'stixgate',
        use_ack: true,
        ack_timeout_secs: 5,
        ack_poll_interval_ms: 10,
        max_events_per_request: 5000,
        max_request_bytes: 1 << 26,
        max_event_bytes: 5 << 20,
      },
    ],
  ];
  const run = (def: SinkDefinition, own: Record<string, unknown>, now: number) => {
    const config = { ...commonConfig(def.type), concurrency: 4, ...own };
    return runSink({
      id: def.type,
      sink: def.create(config, ictx),
      config,
      store,
      http: ctx.http,
      logger: silentLogger(),
      mapping: loadSinkMapping(join(ictx.mappingsDir, 'sinks', `${def.type}.yaml`)).fields,
      deadLetter: new DeadLetterFile(join(dir, `${def.type}.jsonl`)),
      limiter: new Bottleneck({ maxConcurrent: 4 }),
      signal: new AbortController().signal,
      now: () => now,
    });
  };

  for (const [def, own] of sinks) {
    const sum = await run(def, own, NOW);
    assert.equal(sum.upserted, 2103, def.type);
    assert.equal(sum.rejected, 0, def.type);
  }
  assert.equal(sim.documents('stixgate', 'ti').length, 2103);
  assert.equal(sim.documents(ES, 'ip_intel').length, 2101);
  assert.equal(sim.documents(ES, 'http_intel').length, 1);
  assert.equal(sim.documents(ES, 'file_intel').length, 1);
  assert.equal(sim.events().length, 2103);
  assert.deepEqual(
    [...new Set(sim.requests.filter((r) => /batch_save|collector/.test(r.path)).map((r) => r.status))],
    [200],
    'no push refused',
  );

  const revoked = {
    ...must(objects[0], 'objects[0]'),
    x_stixgate: undefined,
    modified: new Date(NOW).toISOString(),
    revoked: true,
  };
  await store.upsert([{ object: revoked, source: 'feed', confidence: 70 }], { now: NOW + 1000 });
  for (const [def, own] of sinks) assert.equal((await run(def, own, NOW + 2000)).removed, 1, def.type);
  assert.equal(sim.documents('stixgate', 'ti').length, 2102);
  assert.ok(!sim.documents('stixgate', 'ti').some((d) => d.indicator === '10.0.0.1'));
  assert.equal(sim.documents(ES, 'ip_intel').length, 2100);
  const last = must(sim.events().at(-1), 'sim.events().at(-1)').event as {
    action: string;
    reason: string;
    indicator: string;
  };
  assert.deepEqual([last.action, last.reason, last.indicator], ['remove', 'revoked', '10.0.0.1']);

  const before = sim.requests.length;
  for (const [def, own] of sinks) assert.equal((await run(def, own, NOW + 3000)).changes, 0);
  assert.ok(
    sim.requests.slice(before).every((r) => !r.path.endsWith('/batch_save') && !r.path.endsWith('/event')),
    'nothing resent',
  );
  assert.throws(() => readFileSync(join(dir, 'splunk_kv.jsonl')), 'no dead letters');
});
