import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildIndex } from '../../src/lookup/index.js';
import { hashApiKey } from '../../src/server/index.js';
import { ind, NOW, rel, rig, sdo, sid } from '../correlate/fixtures.js';
import { STANDARD } from '../score/helpers.js';
import { bearer, KEYS, serverConfig, quietServer } from '../server/helpers.js';

const SIEM = 'k-siem-5d4c3b2a19f8e7d6c5b4';

/**
 * FAULTS D3: reads that need the store answer 503 with Retry-After while it is unavailable,
 * never "not found" (a client would drop a known object) and never a 500. The store is a real
 * embedded store that stops being usable under the server.
 */
test('D3: with the store unavailable, related objects and sightings answer 503 + Retry-After, never 404; /metrics still answers', async (t) => {
  const r = await rig(t);
  const mal = sdo('malware', 1, 'Emotet', 'green');
  await r.put([
    ind(1, "[ipv4-addr:value = '198.51.100.7']", 'clear'),
    mal,
    rel(1, sid('indicator', 1), 'indicates', mal.id),
  ]);
  const config = serverConfig({
    metrics_public: true,
    api_keys: { ...serverConfig().api_keys, siem: { hash: hashApiKey(SIEM), scopes: ['lookup', 'sightings'] } },
  });
  const { index } = await buildIndex(r.store, { now: () => NOW });
  const app = quietServer({
    config,
    index,
    store: r.store,
    correlator: r.correlator,
    scoring: STANDARD(),
    isServing: () => true,
    now: () => NOW,
  });
  t.after(() => app.close());
  const related = () =>
    app.inject({ method: 'GET', url: `/api/v1/objects/${sid('indicator', 1)}/related`, headers: bearer(KEYS.reader) });
  const sight = (s: object) =>
    app.inject({ method: 'POST', url: '/api/v1/sightings', headers: bearer(SIEM), payload: { sightings: [s] } });

  // while the store is up: the object exists and sightings are recorded
  assert.equal((await related()).statusCode, 200);
  assert.equal((await sight({ indicator_id: sid('indicator', 1) })).statusCode, 200);

  await r.store.close();
  const answers = [
    await related(),
    await sight({ indicator_id: sid('indicator', 1) }),
    await sight({ value: '198.51.100.7' }),
  ];
  for (const res of answers) {
    assert.equal(res.statusCode, 503, res.body);
    assert.equal(res.headers['retry-after'], '5');
    assert.deepEqual(res.json(), { error: { code: 'STIXGATE_ERR_API_UNAVAILABLE', message: 'store unavailable' } });
  }
  // /readyz reports it; /metrics serves what it has (the store gauges keep their last value)
  assert.equal((await app.inject('/readyz')).statusCode, 503);
  const metrics = await app.inject('/metrics');
  assert.equal(metrics.statusCode, 200);
  assert.match(metrics.body, /stixgate_store_errors_total\{code="store_unavailable"\} 1/);
});
