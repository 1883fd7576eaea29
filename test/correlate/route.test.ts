import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildIndex } from '../../src/lookup/index.js';
import { Authenticator } from '../../src/server/index.js';
import { relatedRoutes } from '../../src/server/related.js';
import { bearer, KEYS, serverConfig, quietServer } from '../server/helpers.js';
import { ind, NOW, rel, report, rig, sdo, sid } from './fixtures.js';
import { must } from '../helpers/must.js';

const I = (n: number) => sid('indicator', n);

async function app(t: { after: (fn: () => unknown) => void }) {
  const r = await rig(t);
  const mal = sdo('malware', 1, 'Emotet', 'green');
  const amber = sdo('threat-actor', 2, 'Amber Actor', 'amber');
  await r.put([
    ind(1, "[ipv4-addr:value = '198.51.100.7']", 'clear'),
    ind(2, "[ipv4-addr:value = '198.51.100.0/24']", 'green'),
    ind(3, "[domain-name:value = 'red.example']", 'red'),
    mal,
    amber,
    rel(1, I(1), 'indicates', mal.id),
    rel(2, I(1), 'indicates', amber.id),
    report(1, [I(1), I(3)]),
  ]);
  const config = serverConfig({ anonymous_lookup: true });
  const { index } = await buildIndex(r.store, { now: () => NOW });
  const server = quietServer({
    config,
    index,
    store: r.store,
    now: () => NOW,
  });
  relatedRoutes(server, {
    correlator: r.correlator,
    store: r.store,
    auth: new Authenticator(config.api_keys, config.anonymous_lookup),
    now: () => NOW,
  });
  t.after(() => server.close());
  return { server, mal, amber };
}

test('GET /api/v1/objects/:id/related: related objects with paths, TLP by key, 404 for unknown or hidden ids', async (t) => {
  const { server, mal, amber } = await app(t);
  const get = (url: string, key?: string) => server.inject({ method: 'GET', url, headers: key ? bearer(key) : {} });

  const r = await get(`/api/v1/objects/${I(1)}/related`, KEYS.reader);
  assert.equal(r.statusCode, 200);
  const body = r.json() as {
    id: string;
    capped: boolean;
    related: { id: string; type: string; name?: string; path: unknown[] }[];
  };
  assert.equal(body.id, I(1));
  assert.equal(body.capped, false);
  // the reader key reads up to amber: malware, the amber actor, the CIDR indicator, the report (red indicator 3 is hidden)
  assert.deepEqual(body.related.map((x) => x.id).sort(), [mal.id, amber.id, I(2), sid('report', 1)].sort());
  const m = must(
    body.related.find((x) => x.id === mal.id),
    'body.related.find((x) => x.id === mal.id)',
  );
  assert.deepEqual(m, {
    id: mal.id,
    type: 'malware',
    name: 'Emotet',
    path: [{ from: I(1), kind: 'indicates', to: mal.id, via: sid('relationship', 1) }],
  });
  const cidr = must(
    body.related.find((x) => x.id === I(2)),
    'body.related.find((x) => x.id === I(2))',
  );
  assert.deepEqual(cidr.path, [
    { from: I(1), kind: 'inside-cidr', to: I(2), derived: true, via: 'ipv4-addr:198.51.100.0/24' },
  ]);

  // a clear-only key sees neither the green malware nor the amber actor
  const clear = (await get(`/api/v1/objects/${I(1)}/related?depth=2`, KEYS.clear)).json() as typeof body;
  assert.deepEqual(
    clear.related.map((x) => x.id),
    [],
  );
  // types filter and limit
  const typed = (await get(`/api/v1/objects/${I(1)}/related?types=malware,report`, KEYS.red)).json() as typeof body;
  assert.deepEqual(typed.related.map((x) => x.type).sort(), ['malware', 'report']);
  const limited = (await get(`/api/v1/objects/${I(1)}/related?limit=1`, KEYS.red)).json() as typeof body;
  assert.equal(limited.related.length, 1);
  assert.equal(limited.capped, true);
  // depth 2 through the report reaches the red indicator only for the red key
  const deep = (await get(`/api/v1/objects/${I(2)}/related?depth=2`, KEYS.red)).json() as typeof body;
  assert.deepEqual(deep.related.map((x) => x.id).sort(), [I(1), mal.id, amber.id, sid('report', 1)].sort());
  const viaReport = (await get(`/api/v1/objects/${mal.id}/related?depth=2`, KEYS.red)).json() as typeof body;
  assert.deepEqual(viaReport.related.find((x) => x.id === I(2))?.path, [
    { from: I(1), kind: 'indicates', to: mal.id, via: sid('relationship', 1) },
    { from: I(1), kind: 'inside-cidr', to: I(2), derived: true, via: 'ipv4-addr:198.51.100.0/24' },
  ]);
  const redDeep = (await get(`/api/v1/objects/${sid('report', 1)}/related`, KEYS.red)).json() as typeof body;
  assert.deepEqual(redDeep.related.map((x) => x.id).sort(), [I(1), I(3)]);
  const amberDeep = (await get(`/api/v1/objects/${sid('report', 1)}/related`, KEYS.reader)).json() as typeof body;
  assert.deepEqual(
    amberDeep.related.map((x) => x.id),
    [I(1)],
    'the red member is hidden from an amber key',
  );

  // auth: no key (anonymous lookups allowed: TLP:CLEAR only), a bad key, a key without the lookup scope
  const anon = await get(`/api/v1/objects/${I(1)}/related`);
  assert.equal(anon.statusCode, 200);
  assert.deepEqual((anon.json() as typeof body).related, []);
  assert.equal((await get(`/api/v1/objects/${I(1)}/related`, 'nope')).statusCode, 401);
  const forbidden = await get(`/api/v1/objects/${I(1)}/related`, KEYS.metrics);
  assert.equal(forbidden.statusCode, 403);
  assert.equal((forbidden.json() as { error: { code: string } }).error.code, 'STIXGATE_ERR_API_FORBIDDEN');

  // 404: unknown id; an id above the key's TLP looks the same
  const unknown = await get(`/api/v1/objects/${sid('indicator', 999)}/related`, KEYS.reader);
  assert.equal(unknown.statusCode, 404);
  assert.deepEqual(unknown.json(), { error: { code: 'STIXGATE_ERR_API_NOT_FOUND', message: 'no such object' } });
  assert.deepEqual((await get(`/api/v1/objects/${I(3)}/related`, KEYS.reader)).json(), unknown.json());
  assert.equal((await get(`/api/v1/objects/${I(3)}/related`, KEYS.red)).statusCode, 200);

  // bad input: a clear 400
  for (const url of [
    `/api/v1/objects/not-an-id/related`,
    `/api/v1/objects/${I(1)}/related?depth=3`,
    `/api/v1/objects/${I(1)}/related?limit=0`,
    `/api/v1/objects/${I(1)}/related?types=Bad Type`,
    `/api/v1/objects/${I(1)}/related?x=1`,
  ]) {
    const bad = await get(url, KEYS.reader);
    assert.equal(bad.statusCode, 400, url);
    assert.equal((bad.json() as { error: { code: string } }).error.code, 'STIXGATE_ERR_API_BAD_REQUEST', url);
  }
});
