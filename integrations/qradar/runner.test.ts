import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Bottleneck from 'bottleneck';
import { openEmbeddedStore } from '../../src/store/embedded/index.js';
import { runSink, sinkCursorName, type SinkRunOptions } from '../../src/delivery/runner.js';
import { DeadLetterFile } from '../../src/delivery/dead-letter.js';
import { loadSinkMapping } from '../../src/delivery/records.js';
import type { StixObject } from '../../src/core/stix.js';
import type { StixgateError } from '../../src/core/errors.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { qradarSink } from './index.js';
import { config, ictx, indicator, NOW, runContext, startSim } from './test-kit.js';
import { must } from '../../test/helpers/must.js';

/** The sink under the engine's sink runner (change log → records → batches → retries → dead letters). */

async function setup(t: { after: (fn: () => Promise<void> | void) => void }, apiVersion: string) {
  const dir = mkdtempSync(join(tmpdir(), 'stixgate-qradar-'));
  const store = await openEmbeddedStore({ dataDir: dir });
  t.after(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const { sim, base } = await startSim(t, { apiVersion, maxValueLength: 80 });
  const cfg = config(base, { chunk_size: 3 });
  const sink = qradarSink.create(cfg, ictx);
  const dlq = new DeadLetterFile(join(dir, 'dead-letter', 'qradar.jsonl'));
  const mapping = loadSinkMapping(join(ictx.mappingsDir, 'sinks', 'qradar.yaml')).fields;
  const http = runContext(t).http;
  const run = (over: Partial<SinkRunOptions> = {}) =>
    runSink({
      id: 'qr',
      sink,
      config: cfg,
      store,
      http,
      logger: silentLogger(),
      mapping,
      deadLetter: dlq,
      limiter: new Bottleneck({ maxConcurrent: 2 }),
      signal: new AbortController().signal,
      now: () => NOW,
      ...over,
    });
  const put = (objects: StixObject[]) =>
    store.upsert(
      objects.map((object) => ({ object, source: 'feed_a', confidence: 70 })),
      { now: NOW },
    );
  return { sim, store, dlq, run, put };
}

for (const apiVersion of ['26.0', '12.0']) {
  test(`runner + sink (API ${apiVersion}): push, 429 with Retry-After retried, bad value to the dead-letter file, revocation removes, 401 pauses with the cursor kept`, async (t) => {
    const { sim, store, dlq, run, put } = await setup(t, apiVersion);
    const long = `http://evil.example/${'z'.repeat(80)}`;
    const url = 'http://evil.example:8080/x/y?q=1';
    const objs = ['1.2.3.4', '5.6.7.8', 'evil.example', url, long, '2001:db8::7', '9.9.9.9'].map((v) => indicator(v));
    await put(objs);
    sim.inject({ status: 429, retryAfter: 0, pathIncludes: apiVersion === '26.0' ? 'set_entries' : 'bulk_load' });
    const sum = await run();
    assert.equal(sum.rejected, 1);
    assert.ok(sum.retried >= 1);
    assert.deepEqual(sim.values('stixgate - IPv4').sort(), ['1.2.3.4', '5.6.7.8', '9.9.9.9']);
    assert.deepEqual(sim.values('stixgate - URLs'), [url]);
    assert.deepEqual(sim.values('stixgate - IPv6'), ['2001:db8::7']);
    const dead = readFileSync(dlq.path, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(dead.length, 1);
    assert.match(JSON.stringify(dead[0]), /maximum length/);
    const later = new Date(NOW).toISOString();
    await put([
      { ...must(objs[0], 'objs[0]'), modified: later, revoked: true },
      { ...must(objs[3], 'objs[3]'), modified: later, revoked: true },
    ]);
    await run();
    assert.deepEqual(sim.values('stixgate - IPv4').sort(), ['5.6.7.8', '9.9.9.9']);
    assert.deepEqual(sim.values('stixgate - URLs'), []);
    const cursor = await store.getCursor(sinkCursorName('qr'));
    await put([indicator('7.7.7.7')]);
    sim.revoke('sec-token');
    await assert.rejects(run(), (e: StixgateError) => e.code === 'STIXGATE_ERR_SINK_AUTH');
    assert.equal(await store.getCursor(sinkCursorName('qr')), cursor, 'cursor kept while paused');
    assert.ok(existsSync(dlq.path));
  });
}
