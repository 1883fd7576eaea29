/**
 * Decay end to end against a vendor simulator: with a fixed clock, an IPv4 indicator's score
 * follows 80 · 2^(−t/7 d) in the XSOAR simulator's verdict (Suspicious, then Unknown below 40)
 * and the indicator is deleted from XSOAR when its decayed score expires it.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { indicatorFromObservable } from '../../src/core/indicator.js';
import { detectObservable } from '../../src/core/observable.js';
import { registry } from '../../integrations/index.js';
import { parseConfig } from '../../src/config/load.js';
import { createSinkComponent, closeSinkComponent, runSinkComponent } from '../../src/delivery/component.js';
import { rescoreStore } from '../../src/store/rescore.js';
import { openEmbeddedStore } from '../../src/store/embedded/index.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { MAPPINGS_DIR } from '../../src/paths.js';
import { XsoarSimulator } from '../../integrations/xsoar/simulator.js';
import { DAY, STANDARD, T0, iso } from './helpers.js';
import { must } from '../helpers/must.js';

test('decay through the XSOAR simulator: verdict follows the score, expiry deletes the indicator', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'stixgate-decay-xsoar-'));
  const store = await openEmbeddedStore({ dataDir: dir, scoring: STANDARD() });
  let now = T0;
  const sim = new XsoarSimulator({ now: () => now });
  const { base } = await sim.start();
  const loaded = parseConfig(
    JSON.stringify({
      sinks: { x: { type: 'xsoar', url: base, api_key: 'sim-key', allow_private: true, allow_insecure: true } },
    }),
    { file: 'test.yaml', registry },
  );
  const comp = createSinkComponent(
    'x',
    must((loaded.config.sinks as Record<string, never>).x, '(loaded.config.sinks as Record<string, never>).x'),
    {
      registry,
      logger: silentLogger(),
      configDir: dir,
      mappingsDir: MAPPINGS_DIR,
      dataDir: dir,
    },
  );
  t.after(async () => {
    await closeSinkComponent(comp);
    await sim.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const push = () => runSinkComponent(comp, { store, signal: new AbortController().signal, now: () => now });
  const r = detectObservable('198.51.100.9');
  assert.ok(r.ok);
  const ind = indicatorFromObservable(r.observable, { now: iso(T0) });
  await store.upsert([{ object: ind, source: 'feed', confidence: 80, tlp: 'green' }], { now: T0 });
  await push();
  const verdict = () => sim.indicators().find((i) => i.value === '198.51.100.9')?.score;
  assert.equal(verdict(), 3, 'score 80 → Bad');
  const expected = (days: number) => Math.round(80 * 2 ** (-days / 7));
  const seen: number[] = [];
  for (let day = 1; day <= 16; day++) {
    now = T0 + day * DAY;
    await rescoreStore(store, STANDARD(), now);
    await store.expire(now);
    await push();
    const v = verdict();
    seen.push(v ?? -1);
    const stored = must(await store.get(ind.id), '(await store.get(ind.id))');
    const score = must(must(stored.x_stixgate, 'stored.x_stixgate').score, 'stored.x_stixgate.score');
    assert.ok(Math.abs(score - expected(day)) < 5, `day ${day}: stored ${score} within a step of ${expected(day)}`);
    if (stored.x_stixgate?.expired) assert.equal(v, undefined, `day ${day}: expired → deleted from XSOAR`);
    else assert.equal(v, score >= 75 ? 3 : score >= 40 ? 2 : 0, `day ${day}: verdict of score ${score}`);
  }
  assert.equal(verdict(), undefined, 'gone after 16 days (expiry below 20 at ≈ 14.3 d)');
  assert.ok(seen.includes(2) && seen.includes(0), `went through Suspicious and Unknown: ${seen.join(',')}`);
  assert.equal(sim.exclusions().length, 0);
});
