import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TLP_MARKING_BY_LEVEL } from '../../src/core/stix.js';
import { openEmbeddedStore } from '../../src/store/embedded/index.js';
import { Metrics } from '../../src/telemetry/metrics.js';
import { parsedConfig, runComponent, sourceComponent } from '../helpers/source-harness.js';

const NOW = Date.parse('2026-03-01T12:00:00Z');

function indicator(hex: string, ip: string, marking?: string): Record<string, unknown> {
  return {
    type: 'indicator',
    spec_version: '2.1',
    id: `indicator--00000000-0000-4000-8000-${hex}`,
    created: '2026-01-01T00:00:00.000Z',
    modified: '2026-01-01T00:00:00.000Z',
    pattern: `[ipv4-addr:value = '${ip}']`,
    pattern_type: 'stix',
    valid_from: '2026-01-01T00:00:00Z',
    ...(marking ? { object_marking_refs: [marking] } : {}),
  };
}

test('X10: a TLP:RED object from a feed without a RED policy is dropped with a counter and never stored; CLEAR objects beside it are', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'stixgate-red-'));
  const file = join(dir, 'bundle.json');
  writeFileSync(
    file,
    JSON.stringify({
      type: 'bundle',
      id: 'bundle--00000000-0000-4000-8000-000000000001',
      objects: [
        indicator('0000000000a1', '198.51.100.1', TLP_MARKING_BY_LEVEL.red),
        indicator('0000000000a2', '198.51.100.2', TLP_MARKING_BY_LEVEL.clear),
        indicator('0000000000a3', '198.51.100.3'),
      ],
    }),
  );
  const store = await openEmbeddedStore({ dataDir: join(dir, 'data') });
  const options = { type: 'stix_bundle', url: `file://${file}`, tlp: 'clear' };
  const comp = sourceComponent('feed', options, { configDir: dir });
  t.after(async () => {
    await comp.http.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const metrics = new Metrics();
  // the configuration's default: no RED policy
  const { allow_red } = parsedConfig('feed', options);
  assert.equal(allow_red, false);
  const sum = await runComponent(comp, store, NOW, { allowRed: allow_red, metrics, batchSize: 500 });
  assert.equal(sum.filtered, 1);
  assert.equal(
    await store.get('indicator--00000000-0000-4000-8000-0000000000a1'),
    undefined,
    'the RED object is not stored',
  );
  assert.ok(await store.get('indicator--00000000-0000-4000-8000-0000000000a2'));
  assert.ok(await store.get('indicator--00000000-0000-4000-8000-0000000000a3'));
  const text = await metrics.registry.metrics();
  assert.match(text, /stixgate_source_records_filtered_total\{source="feed",filter="tlp_red"\} 1/);
});
