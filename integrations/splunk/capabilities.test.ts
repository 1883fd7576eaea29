import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { StixgateError } from '../../src/core/errors.js';
import type { Sink } from '../../src/delivery/types.js';
import { splunkEsSink, splunkKvSink } from './index.js';
import { SPLUNK_GRANTS, type SplunkGrant } from './capabilities.js';
import type { SplunkRole } from './sim-roles.js';
import { commonConfig, ictx, records, runContext, startSim } from './sink-test-kit.js';
import { must } from '../../test/helpers/must.js';

/**
 * The Splunk account's grants (README "Capabilities the Splunk account needs", capabilities.ts):
 * with all of a sink's grants it prepares, pushes and removes; without any one of them exactly the
 * requests that grant covers are refused (403 → STIXGATE_ERR_SINK_AUTH), in the simulator that
 * enforces them per user.
 */

const APP = 'stixgate';
const PASSWORD = 'pw';

function sinkAs(type: 'splunk_kv' | 'splunk_es', base: string, user: string): Sink {
  const common = {
    url: base,
    auth: { username: user, password: PASSWORD },
    owner: 'nobody',
    max_documents_per_batch_save: 1000,
    max_keys_per_delete: 50,
  };
  if (type === 'splunk_kv')
    return splunkKvSink.create(
      {
        ...commonConfig(type),
        ...common,
        app: APP,
        collection: 'stixgate_iocs',
        enforce_types: false,
        replicate: false,
      },
      ictx,
    );
  return splunkEsSink.create({ ...commonConfig(type), ...common, app: 'DA-ESS-ThreatIntelligence' }, ictx);
}

/** The role holding `grants` (`write:<app>` is the sink's app). */
function role(grants: string[]): SplunkRole {
  const app = (g: string) => g.slice('write:'.length).replace('<app>', APP);
  return {
    capabilities: grants.filter((g) => !g.startsWith('write:')),
    writeApps: grants.filter((g) => g.startsWith('write:')).map(app),
  };
}

/** A logged request as the grant table names it. */
const template = (method: string, path: string): string =>
  `${method} ${path.replace(/^\/servicesNS\/[^/]+\/[^/]+\//, '').replace(/(storage\/collections\/data\/)[^/]+/, '$1{collection}')}`;

const isAuth = (e: unknown) =>
  e instanceof StixgateError && e.code === 'STIXGATE_ERR_SINK_AUTH' && /403/.test(e.message);

for (const type of ['splunk_kv', 'splunk_es'] as const) {
  const grants = SPLUNK_GRANTS.filter((g) => g.sink === type);
  const all = grants.map((g) => g.grant);

  test(`${type}: with its documented grants (${all.join(', ')}) the account prepares, pushes and removes`, async (t) => {
    const { sim, base } = await startSim(t, { users: { full: PASSWORD }, roles: { full: role(all) } });
    const ctx = runContext(t);
    const sink = sinkAs(type, base, 'full');
    await must(sink.prepare, 'sink.prepare').call(sink, ctx);
    assert.deepEqual(
      (await sink.upsert(records(type, ['198.51.100.7']), ctx)).map((o) => o.status),
      ['ok'],
    );
    assert.deepEqual(
      (await sink.remove(records(type, ['198.51.100.7'], 'remove'), ctx)).map((o) => o.status),
      ['ok'],
    );
    assert.deepEqual(
      sim.requests.filter((r) => r.status === 403),
      [],
    );
  });

  for (const g of grants) {
    test(`${type}: without ${g.grant} exactly ${g.requests.join(', ')} are refused (${g.source})`, async (t) => {
      const { sim, base } = await startSim(t, {
        users: { full: PASSWORD, lacking: PASSWORD },
        roles: { full: role(all), lacking: role(all.filter((x) => x !== g.grant)) },
      });
      const ctx = runContext(t);
      const lacking = sinkAs(type, base, 'lacking');
      const wants = (r: string) => g.requests.includes(r);
      if (wants('POST storage/collections/config'))
        await assert.rejects(must(lacking.prepare, 'lacking.prepare').call(lacking, ctx), isAuth);
      else await must(lacking.prepare, 'lacking.prepare').call(lacking, ctx);
      await must(sinkAs(type, base, 'full').prepare, "sinkAs(type, base, 'full').prepare").call(
        sinkAs(type, base, 'full'),
        ctx,
      ); // the collection exists from here on
      const up = lacking.upsert(records(type, ['198.51.100.7']), ctx);
      if (wants('POST storage/collections/data/{collection}/batch_save')) await assert.rejects(up, isAuth);
      else await up;
      const rm = lacking.remove(records(type, ['198.51.100.7'], 'remove'), ctx);
      if (wants('DELETE storage/collections/data/{collection}')) await assert.rejects(rm, isAuth);
      else await rm;
      assert.deepEqual(
        [...new Set(sim.requests.filter((r) => r.status === 403).map((r) => template(r.method, r.path)))].sort(),
        [...g.requests].sort(),
      );
    });
  }
}

test('the README lists every grant of capabilities.ts for its sink', () => {
  const readme = readFileSync(join(fileURLToPath(new URL('.', import.meta.url)), 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('### Capabilities the Splunk account needs'));
  const row = (sink: string) => section.split('\n').find((l) => l.startsWith(`| \`${sink}\``)) ?? '';
  const missing = SPLUNK_GRANTS.filter((g: SplunkGrant) => !row(g.sink).includes(`\`${g.grant}\``)).map(
    (g) => `${g.sink}: ${g.grant}`,
  );
  assert.deepEqual(missing, []);
});
