import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fastify } from 'fastify';
import { indicatorFromObservable } from '../../src/core/indicator.js';
import { detectObservable } from '../../src/core/observable.js';
import type { StixObject } from '../../src/core/stix.js';
import { LookupIndex } from '../../src/lookup/index.js';
import { Authenticator, hashApiKey } from '../../src/server/index.js';
import { registerErrorHandling } from '../../src/server/errors.js';
import type { ApiKeyConfig } from '../../src/server/schema.js';
import { resolverFromIndex, sightingsRoutes } from '../../src/server/sightings.js';
import { sightingId } from '../../src/store/sightings.js';
import type { Store } from '../../src/store/contract.js';
import { openEmbeddedStore } from '../../src/store/embedded/index.js';
import { DAY, HOUR, STANDARD, T0, iso } from './helpers.js';
import { must } from '../helpers/must.js';

const SIEM = 'k-siem-4b1e9d2c7a6f5e3d';
const READER = 'k-reader-0a9b8c7d6e5f4a3b';
const CLEAR = 'k-clear-1f2e3d4c5b6a7980';

function ind(value: string, tlp?: string): StixObject {
  const r = detectObservable(value);
  if (!r.ok) throw new Error(value);
  const o = indicatorFromObservable(r.observable, { now: iso(T0) });
  return tlp ? { ...o, object_marking_refs: [tlp] } : o;
}

async function applyChanges(store: Store, index: LookupIndex): Promise<void> {
  for (;;) {
    const p = await store.changes(index.seq, 1000);
    if (p.changes.length === 0) return;
    for (const c of p.changes) index.apply(c);
  }
}

async function setup(t: { after: (fn: () => Promise<void> | void) => void }) {
  const dir = mkdtempSync(join(tmpdir(), 'stixgate-sroute-'));
  const store = await openEmbeddedStore({ dataDir: dir, scoring: STANDARD() });
  const now = T0 + DAY;
  const index = new LookupIndex({ now: () => now });
  const keys: Record<string, ApiKeyConfig> = {
    siem: { hash: hashApiKey(SIEM), scopes: ['lookup', 'sightings' as never], max_tlp: 'amber' },
    reader: { hash: hashApiKey(READER), scopes: ['lookup'], max_tlp: 'amber' },
    clear: { hash: hashApiKey(CLEAR), scopes: ['sightings' as never], max_tlp: 'clear' },
  };
  const app = fastify({ ajv: { customOptions: { removeAdditional: false } } });
  app.decorateRequest('principal', null);
  registerErrorHandling(app);
  sightingsRoutes(app, {
    store,
    auth: new Authenticator(keys, false),
    scoring: STANDARD(),
    resolve: resolverFromIndex(index, () => now),
    now: () => now,
    maxSightings: 5,
  });
  await app.ready();
  t.after(async () => {
    await app.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const post = (body: unknown, key: string | null = SIEM) =>
    app.inject({
      method: 'POST',
      url: '/api/v1/sightings',
      headers: key ? { authorization: `Bearer ${key}` } : {},
      payload: body as object,
    });
  return { store, index, post, now };
}

test('auth: no key 401, a key without the sightings scope 403', async (t) => {
  const { post } = await setup(t);
  const body = { sightings: [{ value: '198.51.100.7' }] };
  let r = await post(body, null);
  assert.equal(r.statusCode, 401);
  assert.equal(r.json().error.code, 'STIXGATE_ERR_API_UNAUTHORIZED');
  r = await post(body, READER);
  assert.equal(r.statusCode, 403);
  assert.deepEqual(r.json().error, {
    code: 'STIXGATE_ERR_API_FORBIDDEN',
    message: 'this API key lacks the "sightings" scope',
  });
});

test('validation: clear 400 messages naming the item', async (t) => {
  const { post, now } = await setup(t);
  const cases: [unknown, string][] = [
    [{}, "body must have required property 'sightings'"],
    [{ sightings: [] }, 'body/sightings must NOT have fewer than 1 items'],
    [{ sightings: [{ value: 'a', extra: 1 }] }, 'body/sightings/0 must NOT have additional properties'],
    [{ sightings: [{ value: '1.2.3.4', count: 0 }] }, 'body/sightings/0/count must be >= 1'],
    [
      {
        sightings: [
          { value: '1.2.3.4' },
          { value: '1.2.3.4', indicator_id: 'indicator--11111111-1111-4111-8111-111111111111' },
        ],
      },
      'sightings[1]: give exactly one of value or indicator_id',
    ],
    [{ sightings: [{}] }, 'sightings[0]: give exactly one of value or indicator_id'],
    [
      { sightings: [{ value: '1.2.3.4', first_seen: 'yesterday' }] },
      'sightings[0].first_seen is not an RFC 3339 timestamp (e.g. 2024-03-01T12:00:00Z)',
    ],
    [
      { sightings: [{ value: '1.2.3.4', first_seen: iso(now - HOUR), last_seen: iso(now - 2 * HOUR) }] },
      'sightings[0]: first_seen is after last_seen',
    ],
    [{ sightings: [{ value: '1.2.3.4', last_seen: iso(now + DAY) }] }, 'sightings[0].last_seen is in the future'],
    [
      { sightings: Array.from({ length: 6 }, () => ({ value: '1.2.3.4' })) },
      'too many sightings: 6; at most 5 per request',
    ],
  ];
  for (const [body, message] of cases) {
    const r = await post(body);
    assert.equal(r.statusCode, 400, JSON.stringify(body));
    assert.deepEqual(r.json().error, { code: 'STIXGATE_ERR_API_BAD_REQUEST', message });
  }
});

test('records sightings of known values and ids, lists what matched nothing, and the lookup shows the new score', async (t) => {
  const { store, index, post, now } = await setup(t);
  const ip = ind('198.51.100.7');
  const amber = ind('evil.example', 'marking-definition--f88d31f6-486f-44da-b317-01333bde0b82');
  await store.upsert(
    [
      { object: ip, source: 'feed', confidence: 60 },
      { object: amber, source: 'feed', confidence: 60 },
    ],
    { now: T0 },
  );
  await applyChanges(store, index);
  const before = must(
    index.lookup('198.51.100.7', now, 'amber').indicators[0],
    "index.lookup('198.51.100.7', now, 'amber').indicators[0]",
  ).score;
  assert.equal(before, 60, 'stored score (not yet re-scored)');
  const r = await post({
    sightings: [
      { value: '198.51.100.7', count: 4, where: 'splunk-prod', first_seen: iso(now - HOUR), last_seen: iso(now) },
      { value: '192.0.2.200' },
      { value: 'not a value at all' },
      { indicator_id: amber.id, where: 'splunk-prod' },
      { indicator_id: 'indicator--00000000-0000-4000-8000-000000000000' },
    ],
  });
  assert.equal(r.statusCode, 200, r.body);
  const body = r.json();
  const sid = sightingId({ indicatorId: ip.id, where: 'splunk-prod', firstSeen: now - HOUR, lastSeen: now });
  assert.deepEqual(body.recorded, [
    { index: 0, value: '198.51.100.7', indicator_id: ip.id, sighting_id: sid, added: 4 },
    {
      index: 3,
      indicator_id: amber.id,
      sighting_id: sightingId({ indicatorId: amber.id, where: 'splunk-prod', firstSeen: now, lastSeen: now }),
      added: 1,
    },
  ]);
  assert.deepEqual(
    body.unmatched.map((u: { index: number; reason: string }) => [u.index, u.reason]),
    [
      [1, 'no_indicator'],
      [2, 'invalid_value'],
      [4, 'unknown_indicator'],
    ],
  );
  // visible in lookups once the index follows the change log: 60 + 5·log2(5) ≈ 71.6, not aged
  await applyChanges(store, index);
  assert.equal(
    must(
      index.lookup('198.51.100.7', now, 'amber').indicators[0],
      "index.lookup('198.51.100.7', now, 'amber').indicators[0]",
    ).score,
    72,
  );
  const stored = await store.get(ip.id);
  assert.deepEqual((stored?.x_stixgate as { sightings?: unknown } | undefined)?.sightings, {
    count: 4,
    first_seen: iso(now - HOUR),
    last_seen: iso(now),
  });
  // where defaults to the key id
  const r2 = await post({ sightings: [{ value: '198.51.100.7' }] });
  assert.equal(
    r2.json().recorded[0].sighting_id,
    sightingId({ indicatorId: ip.id, where: 'siem', firstSeen: now, lastSeen: now }),
  );
});

test('a key never learns of indicators above its TLP', async (t) => {
  const { store, index, post } = await setup(t);
  const amber = ind('evil.example', 'marking-definition--f88d31f6-486f-44da-b317-01333bde0b82');
  await store.upsert([{ object: amber, source: 'feed', confidence: 60 }], { now: T0 });
  await applyChanges(store, index);
  const r = await post({ sightings: [{ value: 'evil.example' }, { indicator_id: amber.id }] }, CLEAR);
  assert.equal(r.statusCode, 200);
  assert.deepEqual(r.json(), {
    recorded: [],
    unmatched: [
      { index: 0, value: 'evil.example', reason: 'no_indicator' },
      { index: 1, indicator_id: amber.id, reason: 'unknown_indicator' },
    ],
  });
});
