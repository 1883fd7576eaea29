import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TLP_MARKING_BY_LEVEL } from '../../../src/core/stix.js';
import { DEFAULT_COLLECTIONS, TAXII, TAXII_KEYS, T0, bearer, ipIndicators, taxiiRig } from './rig.js';
import { must } from '../../helpers/must.js';

const INBOX = `/taxii2/default/collections/${DEFAULT_COLLECTIONS.inbox.id}`;
const SHARED = `/taxii2/default/collections/${DEFAULT_COLLECTIONS.shared.id}`;

describe('TAXII 2.1 server: write side', () => {
  it('POST to a writable collection ingests like a source: store, change log, per-object status, served at once', async (t) => {
    const rig = await taxiiRig(t);
    const good = ipIndicators(3, '45.140', undefined);
    const red = must(
      ipIndicators(1, '45.141', TLP_MARKING_BY_LEVEL.red)[0],
      "ipIndicators(1, '45.141', TLP_MARKING_BY_LEVEL.red)[0]",
    );
    const badPattern = { ...ipIndicators(1, '45.142', undefined)[0], pattern: "[ipv4-addr:value = 'not an ip']" };
    const notStix = { type: 'indicator', id: 'nope' };
    const head0 = await rig.store.head();
    const res = await rig.app.inject({
      method: 'POST',
      url: `${INBOX}/objects/`,
      headers: { ...bearer(TAXII_KEYS.writer), 'content-type': TAXII, accept: TAXII },
      payload: JSON.stringify({ objects: [...good, red, badPattern, notStix] }),
    });
    assert.equal(res.statusCode, 202, res.body);
    assert.equal(res.headers['content-type'], TAXII);
    const status = res.json();
    assert.equal(status.status, 'complete');
    assert.deepEqual(
      [status.total_count, status.success_count, status.failure_count, status.pending_count],
      [6, 3, 3, 0],
    );
    assert.deepEqual(
      status.successes.map((s: { id: string }) => s.id),
      good.map((o) => o.id),
    );
    assert.deepEqual(status.successes[0], {
      id: must(good[0], 'good[0]').id,
      version: must(good[0], 'good[0]').modified,
    });
    assert.deepEqual(
      status.failures.map((f: { id: string; message: string }) => [f.id, f.message.split(':')[0]]),
      [
        [red.id, 'tlp_red'],
        [badPattern.id, status.failures[1].message.split(':')[0]],
        ['nope', 'bad_id'],
      ],
    );
    assert.notEqual(status.failures[1].message.split(':')[0], 'tlp_red');
    // in the store, under the collection's source, at its write_tlp, and in the change log
    const stored = await rig.store.get(must(good[0], 'good[0]').id);
    assert.deepEqual(Object.keys(must(must(stored, 'stored').x_stixgate, 'stored.x_stixgate').sources), [
      'taxii:default/inbox',
    ]);
    assert.equal(
      must(
        must(must(stored, 'stored').x_stixgate, 'stored.x_stixgate').sources['taxii:default/inbox'],
        "stored.x_stixgate.sources['taxii:default/inbox']",
      ).tlp,
      'green',
    );
    const { changes } = await rig.store.changes(head0, 100);
    assert.deepEqual(
      changes.map((c) => c.id),
      good.map((o) => o.id),
    );
    // the status is the poster's; other keys and other roots do not find it
    const mine = await rig.get(`/taxii2/default/status/${status.id}/`, TAXII_KEYS.writer);
    assert.deepEqual(mine.body, status);
    assert.equal((await rig.get(`/taxii2/default/status/${status.id}/`, TAXII_KEYS.amber)).status, 404);
    assert.equal((await rig.get(`/taxii2/default/status/${status.id}/`)).status, 401);
    // served without waiting for the clock: green readers of the shared collection see them
    const seen = await rig.get(`${SHARED}/objects/?match[id]=${good.map((o) => o.id).join(',')}`, TAXII_KEYS.green);
    assert.deepEqual(
      seen.body.objects.map((o: { id: string }) => o.id),
      good.map((o) => o.id),
    );
    // a repeat is a success that writes nothing
    rig.setNow(T0 + 1000);
    const again = await rig.app.inject({
      method: 'POST',
      url: `${INBOX}/objects/`,
      headers: { ...bearer(TAXII_KEYS.writer), 'content-type': TAXII },
      payload: JSON.stringify({ objects: good }),
    });
    assert.equal(again.json().success_count, 3);
    assert.equal((await rig.store.changes(head0, 100)).changes.length, 3);
  });

  it('authorization before the body: no key 401, read-only key 403, no write right 403, wrong media type 415', async (t) => {
    const rig = await taxiiRig(t);
    const post = (url: string, headers: Record<string, string>) =>
      rig.app.inject({
        method: 'POST',
        url,
        headers: { 'content-type': TAXII, ...headers },
        payload: JSON.stringify({ objects: ipIndicators(1, '45.150', undefined) }),
      });
    const none = await post(`${INBOX}/objects/`, {});
    assert.equal(none.statusCode, 401);
    assert.equal(none.headers['www-authenticate'], 'Bearer realm="stixgate"');
    assert.equal((await post(`${INBOX}/objects/`, bearer(TAXII_KEYS.lookup))).statusCode, 403);
    assert.equal(
      (await post(`${INBOX}/objects/`, bearer(TAXII_KEYS.amber))).statusCode,
      404,
      'a collection the key may neither read nor write does not exist for it',
    );
    const ro = await post(`${SHARED}/objects/`, bearer(TAXII_KEYS.amber));
    assert.equal(ro.statusCode, 403);
    assert.deepEqual(ro.json(), {
      title: 'Forbidden',
      description: 'this API key may not write to this collection',
      error_code: 'STIXGATE_ERR_API_FORBIDDEN',
      http_status: '403',
    });
    for (const ct of ['application/json', 'text/plain', 'application/taxii+json;version=2.0']) {
      const r = await post(`${INBOX}/objects/`, { ...bearer(TAXII_KEYS.writer), 'content-type': ct });
      assert.equal(r.statusCode, 415, ct);
    }
    assert.equal(
      (await post(`${INBOX}/objects/`, { ...bearer(TAXII_KEYS.writer), 'content-type': 'application/taxii+json' }))
        .statusCode,
      202,
    );
    const poison = await rig.app.inject({
      method: 'POST',
      url: `${INBOX}/objects/`,
      headers: { ...bearer(TAXII_KEYS.writer), 'content-type': TAXII },
      payload: '{"objects":[],"__proto__":{"x":1}}',
    });
    assert.equal(poison.statusCode, 400);
    assert.equal(poison.json().error_code, 'STIXGATE_ERR_API_BAD_REQUEST');
    assert.equal(await rig.store.head(), 1, 'only the one accepted POST wrote');
  });
});
