import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { buildIndex } from '../../src/lookup/index.js';
import { PublishFilter } from '../../src/filter/policy.js';
import { buildWarninglistMatcher } from '../../src/filter/warninglists.js';
import { ChangeLogStore, T0, indicator, uuidId } from '../lookup/fixtures.js';
import { KEYS, bearer, serverConfig, quietServer } from './helpers.js';
import { Correlator } from '../../src/correlate/index.js';
import { TLP_MARKING_IDS, type TlpLevel } from '../../src/core/stix.js';
import { must } from '../helpers/must.js';

const MALWARE = 'malware--5b7e8e3c-4b8f-4a5e-9a39-3a6a3d1c2b11';
const ACTOR = 'threat-actor--6c8f9f4d-5c9a-4b6f-8b4a-4b7b4e2d3c22';
const iso = new Date(T0).toISOString();
const TLP = Object.fromEntries(Object.entries(TLP_MARKING_IDS).map(([id, level]) => [level, id])) as Record<
  string,
  string
>;
/** One source's provenance at a TLP, as the store records it. */
const prov = (tlp: TlpLevel) => ({ x_stixgate: { sources: { feed: { first_seen: iso, last_seen: iso, tlp } } } });

/** Lookups flag values on a warninglist or the publish allowlist, and add related names on request. */
async function setup(opts: { filter?: PublishFilter; related?: boolean }) {
  const store = new ChangeLogStore();
  store.push(indicator({ n: 1, pattern: "[ipv4-addr:value = '8.8.8.8']", tlp: 'green', score: 60 }));
  store.push(indicator({ n: 2, pattern: "[domain-name:value = 'evil.example']", tlp: 'green' }));
  const { index } = await buildIndex(store.asStore(), { now: () => T0 });
  let correlator: Correlator | undefined;
  if (opts.related) {
    // a malware the second indicator indicates (TLP:GREEN) and an actor behind it (TLP:RED)
    store.push({
      type: 'malware',
      spec_version: '2.1',
      id: MALWARE,
      name: 'Emotet',
      is_family: true,
      created: iso,
      modified: iso,
      object_marking_refs: [must(TLP.green, 'TLP.green')],
      ...prov('green'),
    });
    store.push({
      type: 'threat-actor',
      spec_version: '2.1',
      id: ACTOR,
      name: 'TA542',
      created: iso,
      modified: iso,
      object_marking_refs: [must(TLP.red, 'TLP.red')],
      ...prov('red'),
    });
    store.push({
      type: 'relationship',
      spec_version: '2.1',
      id: 'relationship--1b0c0c64-6f61-4a44-9c44-111111111111',
      relationship_type: 'indicates',
      source_ref: uuidId(2),
      target_ref: MALWARE,
      created: iso,
      modified: iso,
      object_marking_refs: [must(TLP.green, 'TLP.green')],
      ...prov('green'),
    });
    store.push({
      type: 'relationship',
      spec_version: '2.1',
      id: 'relationship--1b0c0c64-6f61-4a44-9c44-222222222222',
      relationship_type: 'attributed-to',
      source_ref: uuidId(2),
      target_ref: ACTOR,
      created: iso,
      modified: iso,
      object_marking_refs: [must(TLP.red, 'TLP.red')],
      ...prov('red'),
    });
    correlator = new Correlator({ dataDir: ':memory:' });
    await correlator.catchUp(store.asStore());
  }
  const app = quietServer({
    config: serverConfig(),
    index,
    store: store.asStore(),
    now: () => T0,
    publishFilter: opts.filter && (() => opts.filter),
    correlator,
  });
  return { app, correlator };
}

test('lookups flag values on a warninglist (hit or miss) and on the publish allowlist; others carry no flag', async () => {
  const { matcher } = await buildWarninglistMatcher({
    docs: [
      {
        origin: 'test',
        json: {
          name: 'Public DNS resolvers',
          type: 'cidr',
          version: 1,
          description: 'd',
          matching_attributes: ['ip-dst'],
          list: ['8.8.8.0/24'],
        },
      },
    ],
  });
  const filter = new PublishFilter({ warninglists: matcher, allowlist: ['safe.example'] });
  const { app } = await setup({ filter });
  const listed = (
    await app.inject({ method: 'GET', url: '/api/v1/lookup?value=8.8.8.8', headers: bearer(KEYS.reader) })
  ).json();
  assert.equal(listed.matched, true);
  assert.deepEqual(listed.warninglists, [
    { list: 'Public DNS resolvers', type: 'cidr', entry: '8.8.8.0/24', source: 'warninglist' },
  ]);
  const miss = (
    await app.inject({ method: 'GET', url: '/api/v1/lookup?value=8.8.8.9', headers: bearer(KEYS.reader) })
  ).json();
  assert.equal(miss.matched, false);
  assert.equal(miss.warninglists[0].list, 'Public DNS resolvers');
  const batch = (
    await app.inject({
      method: 'POST',
      url: '/api/v1/lookup',
      headers: bearer(KEYS.reader),
      payload: { values: ['www.safe.example', 'evil.example', 'bad value!'] },
    })
  ).json();
  assert.equal(batch.results[0].warninglists[0].source, 'allowlist');
  assert.equal(batch.results[1].warninglists, undefined);
  assert.equal(batch.results[2].warninglists, undefined);
});

test('lookups name a hostname list either way: withholding, or (PSL rule) not withholding a tenant under a private suffix', async () => {
  const { matcher } = await buildWarninglistMatcher({
    docs: [
      {
        origin: 'test',
        json: {
          name: 'Top sites',
          type: 'hostname',
          version: 1,
          description: 'd',
          matching_attributes: ['domain', 'url'],
          list: ['duckdns.org'],
        },
      },
    ],
  });
  const { app } = await setup({ filter: new PublishFilter({ warninglists: matcher }) });
  const batch = (
    await app.inject({
      method: 'POST',
      url: '/api/v1/lookup',
      headers: bearer(KEYS.reader),
      payload: { values: ['duckdns.org', 'evil.duckdns.org'] },
    })
  ).json();
  assert.deepEqual(batch.results[0].warninglists, [
    { list: 'Top sites', type: 'hostname', entry: 'duckdns.org', source: 'warninglist' },
  ]);
  assert.deepEqual(batch.results[1].warninglists, [
    { list: 'Top sites', type: 'hostname', entry: 'duckdns.org', source: 'warninglist', private_suffix: 'duckdns.org' },
  ]);
});

test('without lists loaded, answers carry no warninglists field', async () => {
  const { app } = await setup({ filter: new PublishFilter({}) });
  const r = (
    await app.inject({ method: 'GET', url: '/api/v1/lookup?value=8.8.8.8', headers: bearer(KEYS.reader) })
  ).json();
  assert.equal('warninglists' in r, false);
});

test("related=true adds the names the matched indicators are linked to, at the key's TLP", async () => {
  const { app, correlator } = await setup({ related: true });
  after(() => correlator?.close());
  const plain = (
    await app.inject({ method: 'GET', url: '/api/v1/lookup?value=evil.example', headers: bearer(KEYS.clear) })
  ).json();
  assert.equal(plain.related, undefined, 'only on request');
  const r = (
    await app.inject({
      method: 'GET',
      url: '/api/v1/lookup?value=evil.example&related=true',
      headers: bearer(KEYS.reader),
    })
  ).json();
  assert.deepEqual(r.related.malware, ['Emotet']);
  assert.deepEqual(r.related.threat_actors, [], 'the TLP:RED actor is above the amber key');
  const red = (
    await app.inject({
      method: 'GET',
      url: '/api/v1/lookup?value=evil.example&related=true',
      headers: bearer(KEYS.red),
    })
  ).json();
  assert.deepEqual(red.related.threat_actors, ['TA542']);
  const post = (
    await app.inject({
      method: 'POST',
      url: '/api/v1/lookup',
      headers: bearer(KEYS.reader),
      payload: { values: ['evil.example', '192.0.2.1'], related: true },
    })
  ).json();
  assert.deepEqual(post.results[0].related.malware, ['Emotet']);
  assert.equal(post.results[1].related, undefined, 'misses have no related names');
});
