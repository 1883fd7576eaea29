import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { buildIndex } from '../../src/lookup/index.js';
import { buildServer } from '../../src/server/index.js';
import { Metrics } from '../../src/telemetry/metrics.js';
import { PublishFilter } from '../../src/filter/policy.js';
import { buildWarninglistMatcher } from '../../src/filter/warninglists.js';
import { ChangeLogStore, T0, indicator, uuidId } from '../lookup/fixtures.js';
import { KEYS, bearer, serverConfig } from './helpers.js';

/** Lookups flag values on a warninglist or the publish allowlist, and add related names on request. */
async function setup(opts: { filter?: PublishFilter; related?: boolean }) {
  const store = new ChangeLogStore();
  store.push(indicator({ n: 1, pattern: "[ipv4-addr:value = '8.8.8.8']", tlp: 'green', score: 60 }));
  store.push(indicator({ n: 2, pattern: "[domain-name:value = 'evil.example']", tlp: 'green' }));
  const { index } = await buildIndex(store.asStore(), { now: () => T0 });
  const seen: [string, string][] = [];
  const correlator = opts.related
    ? ({ relatedSummary: (id: string, maxTlp: string) => (seen.push([id, maxTlp]), { malware: id === uuidId(2) ? ['Emotet'] : [], threat_actors: [] }) } as never)
    : undefined;
  const app = buildServer({
    config: serverConfig(), index, store: store.asStore(), metrics: new Metrics({ defaults: false }), logger: pino({ level: 'silent' }),
    isReady: () => true, now: () => T0, publishFilter: opts.filter && (() => opts.filter), correlator,
  });
  return { app, seen };
}

test('lookups flag values on a warninglist (hit or miss) and on the publish allowlist; others carry no flag', async () => {
  const { matcher } = await buildWarninglistMatcher({
    docs: [{ origin: 'test', json: { name: 'Public DNS resolvers', type: 'cidr', version: 1, description: 'd', matching_attributes: ['ip-dst'], list: ['8.8.8.0/24'] } }],
  });
  const filter = new PublishFilter({ warninglists: matcher, allowlist: ['safe.example'] });
  const { app } = await setup({ filter });
  const listed = (await app.inject({ method: 'GET', url: '/api/v1/lookup?value=8.8.8.8', headers: bearer(KEYS.reader) })).json();
  assert.equal(listed.matched, true);
  assert.deepEqual(listed.warninglists, [{ list: 'Public DNS resolvers', type: 'cidr', entry: '8.8.8.0/24', source: 'warninglist' }]);
  const miss = (await app.inject({ method: 'GET', url: '/api/v1/lookup?value=8.8.8.9', headers: bearer(KEYS.reader) })).json();
  assert.equal(miss.matched, false);
  assert.equal(miss.warninglists[0].list, 'Public DNS resolvers');
  const batch = (await app.inject({ method: 'POST', url: '/api/v1/lookup', headers: bearer(KEYS.reader), payload: { values: ['www.safe.example', 'evil.example', 'bad value!'] } })).json();
  assert.equal(batch.results[0].warninglists[0].source, 'allowlist');
  assert.equal(batch.results[1].warninglists, undefined);
  assert.equal(batch.results[2].warninglists, undefined);
});

test('without lists loaded, answers carry no warninglists field', async () => {
  const { app } = await setup({ filter: new PublishFilter({}) });
  const r = (await app.inject({ method: 'GET', url: '/api/v1/lookup?value=8.8.8.8', headers: bearer(KEYS.reader) })).json();
  assert.equal('warninglists' in r, false);
});

test('related=true adds the names the matched indicators are linked to, at the key\'s TLP', async () => {
  const { app, seen } = await setup({ related: true });
  const plain = (await app.inject({ method: 'GET', url: '/api/v1/lookup?value=evil.example', headers: bearer(KEYS.clear) })).json();
  assert.equal(plain.related, undefined, 'only on request');
  const r = (await app.inject({ method: 'GET', url: '/api/v1/lookup?value=evil.example&related=true', headers: bearer(KEYS.reader) })).json();
  assert.deepEqual(r.related, { malware: ['Emotet'], threat_actors: [] });
  assert.deepEqual(seen, [[uuidId(2), 'amber']]);
  const post = (await app.inject({ method: 'POST', url: '/api/v1/lookup', headers: bearer(KEYS.reader), payload: { values: ['evil.example', '192.0.2.1'], related: true } })).json();
  assert.deepEqual(post.results[0].related.malware, ['Emotet']);
  assert.equal(post.results[1].related, undefined, 'misses have no related names');
});
