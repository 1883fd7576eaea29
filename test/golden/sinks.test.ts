import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { registry } from '../../integrations/index.js';
import { s, validate } from '../../src/core/schema.js';
import type { StixObject } from '../../src/core/stix.js';
import { loadSinkMapping } from '../../src/delivery/records.js';
import type { SinkDefinition, SinkRecord } from '../../src/delivery/types.js';
import { PROJECT_ROOT } from '../helpers/corpus.js';
import { commonConfig, ictx, NOW, runContext, viewRecords } from '../helpers/sink-kit.js';
import { SplunkSimulator } from '../../integrations/splunk/simulator.js';
import { ES_COLLECTIONS } from '../../integrations/splunk/mapping.js';
import { QradarSimulator } from '../../integrations/qradar/simulator.js';
import { XsoarSimulator } from '../../integrations/xsoar/simulator.js';
import { must } from '../helpers/must.js';

/**
 * Paired golden files of the sink formats: the stored objects of test/golden/paired-sinks/input.json
 * are pushed (prepare, upsert all, then remove the last one) to each product's simulator, and what
 * the product then holds (KV documents, ES threat-intel rows, HEC events, QRadar set or collection
 * entries, XSOAR indicators) is compared entry by entry with <case>/expected.json.
 * `npm run golden:update` rewrites the expectations for review.
 */
const DIR = join(PROJECT_ROOT, 'test', 'golden', 'paired-sinks');
const input = JSON.parse(readFileSync(join(DIR, 'input.json'), 'utf8')) as { objects: StixObject[] };

interface Product {
  /** The sink type (default: the case name). */
  type?: string;
  start(): Promise<{ base: string; close: () => Promise<void>; held: () => unknown }>;
  config(base: string): Record<string, unknown>;
}

const JWT = 'golden-jwt';
const HEC = '11111111-2222-3333-4444-555555555555';
const byKey = (k: string) => (a: Record<string, unknown>, b: Record<string, unknown>) =>
  String(a[k]).localeCompare(String(b[k]));

function splunk(held: (sim: SplunkSimulator) => unknown): Product['start'] {
  return async () => {
    const sim = new SplunkSimulator({ bearerTokens: [JWT], hecTokens: { [HEC]: { indexes: ['threat_intel'] } } });
    const { base } = await sim.start();
    return { base, close: () => sim.close(), held: () => held(sim) };
  };
}

/** A QRadar simulator (`opts`); what it holds is each set's type, time to live and sorted values. */
function qradar(opts: { apiVersion?: string }): Product['start'] {
  return async () => {
    const sim = new QradarSimulator({ tokens: ['golden-token'], now: () => NOW, ...opts });
    const { base } = await sim.start();
    const held = () =>
      Object.fromEntries(
        sim
          .sets()
          .map((set) => [
            set.name,
            { element_type: set.element_type, time_to_live: set.time_to_live, values: sim.values(set.name).sort() },
          ]),
      );
    return { base, close: () => sim.close(), held };
  };
}

const products: Record<string, Product> = {
  splunk_kv: {
    start: splunk((sim) => sim.documents('search', 'stixgate_indicators').sort(byKey('_key'))),
    config: (url) => ({ url, auth: { bearer_token: JWT } }),
  },
  splunk_es: {
    start: splunk((sim) =>
      Object.fromEntries(
        ES_COLLECTIONS.map((c) => [c, sim.documents('DA-ESS-ThreatIntelligence', c).sort(byKey('_key'))]).filter(
          ([, d]) => (d as unknown[]).length,
        ),
      ),
    ),
    config: (url) => ({ url, auth: { bearer_token: JWT } }),
  },
  splunk_hec: {
    start: splunk((sim) =>
      sim
        .events()
        .map((e) => ({ ...e }))
        .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
    ),
    config: (url) => ({ url, token: HEC, index: 'threat_intel' }),
  },
  qradar: {
    start: qradar({}),
    config: (url) => ({ url, token: 'golden-token' }),
  },
  qradar_legacy: {
    type: 'qradar',
    start: qradar({ apiVersion: '12.0' }),
    config: (url) => ({ url, token: 'golden-token', api: 'legacy' }),
  },
  xsoar: {
    start: async () => {
      const sim = new XsoarSimulator({ keys: [{ key: 'golden-key', id: 1 }], now: () => NOW });
      const { base } = await sim.start();
      return {
        base,
        close: () => sim.close(),
        held: () =>
          sim
            .indicators()
            .map((i) => ({ ...i }))
            .sort(byKey('value')),
      };
    },
    config: (url) => ({ url, api_key: 'golden-key' }),
  },
};

for (const [name, product] of Object.entries(products)) {
  const type = product.type ?? name;
  test(`paired golden sink ${name}: what the product holds after the push, and what it refused`, async (t) => {
    const def = registry.find((d) => d.kind === 'sink' && d.type === type) as SinkDefinition;
    const { base, close, held } = await product.start();
    t.after(close);
    const own = validate(s.object(def.schema), product.config(base));
    assert.ok(own.ok, JSON.stringify(!own.ok && own.issues));
    const sink = def.create({ ...commonConfig(type), max_tlp: 'red', ...(own.value as object) } as never, ictx);
    const ctx = runContext(t, `golden-${type}`);
    const fields = loadSinkMapping(join(ictx.mappingsDir, 'sinks', `${type}.yaml`)).fields;
    const records: SinkRecord[] = input.objects.flatMap((o, i) => viewRecords(o, i + 1, 'upsert', fields));
    await sink.prepare?.(ctx);
    const upserted = await sink.upsert(records, ctx);
    const refused = upserted.flatMap((o, i) =>
      o.status === 'ok' ? [] : [{ value: must(records[i], 'records[i]').observable.value, ...o }],
    );
    const last = must(input.objects.at(-1), 'input.objects.at(-1)');
    await sink.remove(viewRecords(last, input.objects.length + 1, 'remove', fields), ctx);
    const actual = JSON.parse(JSON.stringify({ held: held(), refused })) as unknown;
    const file = join(DIR, name, 'expected.json');
    if (process.env.UPDATE_GOLDEN === '1') {
      writeFileSync(file, `${JSON.stringify(actual, null, 2)}\n`);
      return;
    }
    assert.ok(existsSync(file), `${relative(PROJECT_ROOT, file)} is missing: run npm run golden:update and review it`);
    assert.deepEqual(
      actual,
      JSON.parse(readFileSync(file, 'utf8')),
      `${name}: what the product holds differs from ${relative(PROJECT_ROOT, file)}`,
    );
  });
}
