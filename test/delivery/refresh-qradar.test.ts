import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Bottleneck from 'bottleneck';
import { openEmbeddedStore } from '../../src/store/embedded/index.js';
import { runSink } from '../../src/delivery/runner.js';
import { DeadLetterFile } from '../../src/delivery/dead-letter.js';
import { loadSinkMapping } from '../../src/delivery/records.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { qradarSink } from '../../integrations/qradar/index.js';
import { config, ictx, indicator, NOW, runContext, startSim } from '../../integrations/qradar/test-kit.js';

/**
 * Remote expiry refresh against the QRadar simulator, which ages values out `ttl_days` after their
 * last push (LAST_SEEN), on one fake clock shared by the simulator and the runner: values no source
 * lists again stay in QRadar while they are valid in the store, and lapse without the refresh.
 */

const DAY = 86_400_000;

for (const refresh of [true, false]) {
  test(`QRadar ttl_days 10, a still-valid value never re-listed: ${refresh ? 'the refresh keeps it in the set' : 'without the refresh it ages out'}`, async (t) => {
    let clock = NOW;
    const dir = mkdtempSync(join(tmpdir(), 'stixgate-refresh-qradar-'));
    const store = await openEmbeddedStore({ dataDir: dir });
    t.after(async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    });
    const { sim, base } = await startSim(t, { now: () => clock });
    // refresh_days 3650: the refresh would come long after the values lapsed (the control)
    const cfg = config(base, { ttl_days: 10, ...(refresh ? {} : { refresh_days: 3650 }) });
    const sink = qradarSink.create(cfg, ictx);
    assert.equal(sink.remoteTtlMs, 10 * DAY, 'the sink declares its time to live');
    const http = runContext(t).http;
    const run = () =>
      runSink({
        id: 'qr',
        sink,
        config: cfg,
        store,
        http,
        logger: silentLogger(),
        mapping: loadSinkMapping(join(ictx.mappingsDir, 'sinks', 'qradar.yaml')).fields,
        deadLetter: new DeadLetterFile(join(dir, 'dl.jsonl')),
        limiter: new Bottleneck({ maxConcurrent: 2 }),
        signal: new AbortController().signal,
        now: () => clock,
      });
    const values = ['198.51.100.1', '198.51.100.2', '198.51.100.3'];
    await store.upsert(
      values.map((v) => ({ object: { ...indicator(v), x_stixgate: undefined }, source: 'feed_a', confidence: 70 })),
      { now: NOW },
    );
    await run();
    assert.deepEqual(sim.values('stixgate - IPv4').sort(), values);
    // the sink runs every day; no source lists the values again
    let refreshed = 0;
    for (let day = 1; day <= 12; day++) {
      clock = NOW + day * DAY;
      refreshed += (await run()).refreshed ?? 0;
    }
    if (refresh) {
      assert.equal(refreshed, 6, 'one cycle every 5 days (half the time to live): days 5 and 10');
      assert.deepEqual(sim.values('stixgate - IPv4').sort(), values, 'still in QRadar on day 12');
    } else {
      assert.equal(refreshed, 0);
      assert.deepEqual(sim.values('stixgate - IPv4'), [], 'aged out after 10 days');
    }
  });
}
