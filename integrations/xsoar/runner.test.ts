import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import Bottleneck from 'bottleneck';
import { tempStore } from '../../test/helpers/enrich-loopback.js';
import { runSink } from '../../src/delivery/runner.js';
import { DeadLetterFile } from '../../src/delivery/dead-letter.js';
import { loadSinkMapping } from '../../src/delivery/records.js';
import { StixgateError } from '../../src/core/errors.js';
import type { StixObject } from '../../src/core/stix.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { xsoarSink } from './index.js';
import { ADV_KEY, NOW, config, ictx, indicator, ips, runContext, startSim } from './test-kit.js';
import { must } from '../../test/helpers/must.js';

/**
 * The sink under the engine's sink runner: store change log → records → batches → XSOAR 8 with an
 * advanced key, through revocation, a 429 and a revoked key.
 */

test('sink runner → xsoar: batches within 2,000, revocation deletes without exclusion, 429 retried, revoked key pauses', async (t) => {
  const { store, dir, cleanup } = await tempStore();
  t.after(cleanup);
  const { sim, base } = await startSim(t);
  const cfg = config(base, { version: 8, auth_id: 2, api_key: ADV_KEY, key_type: 'advanced' });
  const sink = xsoarSink.create(cfg, ictx);
  const mapping = loadSinkMapping(join(ictx.mappingsDir, 'sinks', 'xsoar.yaml')).fields;
  const ctx = runContext(t);
  const run = () =>
    runSink({
      id: 'xsoar',
      sink,
      config: cfg,
      store,
      http: ctx.http,
      logger: silentLogger(),
      mapping,
      deadLetter: new DeadLetterFile(join(dir, 'dead-letter', 'xsoar.jsonl')),
      limiter: new Bottleneck({ maxConcurrent: 2 }),
      signal: new AbortController().signal,
      now: () => NOW,
    });
  const objects: StixObject[] = ips(2500).map((v) => indicator(v, 90));
  await store.upsert(
    objects.map((object) => ({ object, source: 'feed_a', confidence: 80 })),
    { now: NOW },
  );

  const first = await run();
  assert.equal(first.upserted, 2500);
  assert.equal(sim.indicators().length, 2500);
  const feeds = sim.requests.filter((q) => q.path.endsWith('/feed/json'));
  assert.ok(
    feeds.every((q) => q.items <= 2000 && q.scheme === 'advanced'),
    JSON.stringify(feeds.map((q) => q.items)),
  );
  assert.equal(
    feeds.reduce((n, q) => n + q.items, 0),
    2500,
  );
  assert.ok(sim.indicators().every((i) => i.score === 3 && i.sourceBrands.includes('stixgate')));

  sim.inject({ target: 'delete', status: 429, retryAfter: 0 });
  await store.upsert(
    [
      {
        object: { ...must(objects[0], 'objects[0]'), modified: new Date(NOW).toISOString(), revoked: true },
        source: 'feed_a',
        confidence: 80,
      },
    ],
    { now: NOW },
  );
  const second = await run();
  assert.equal(second.removed, 1);
  assert.equal(sim.indicator(must(ips(1)[0], 'ips(1)[0]')), undefined);
  assert.deepEqual(sim.exclusions(), []);
  assert.ok(
    sim.requests.some((q) => q.path.endsWith('/batchDelete') && q.status === 429),
    'the 429 was seen and retried',
  );

  sim.revoke(ADV_KEY);
  await store.upsert(
    [
      {
        object: { ...must(objects[1], 'objects[1]'), modified: new Date(NOW).toISOString(), revoked: true },
        source: 'feed_a',
        confidence: 80,
      },
    ],
    { now: NOW },
  );
  await assert.rejects(run(), (e: unknown) => e instanceof StixgateError && e.code === 'STIXGATE_ERR_SINK_AUTH');
  assert.equal(sim.indicators().length, 2499, 'nothing changed while the key is refused');
});
