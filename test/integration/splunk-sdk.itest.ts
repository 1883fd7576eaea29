import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runOracle } from '../helpers/sink-kit.js';
import { VALIDATOR_SKIP as skip } from '../helpers/validator.js';
import { SplunkSimulator } from '../../integrations/splunk/simulator.js';
import { must } from '../helpers/must.js';

/**
 * Simulator fidelity: Splunk's own Python client (splunk-sdk, scripts/oracles/splunk_sdk_check.py)
 * logs in, creates a KV collection, batch_saves, queries and deletes against the simulator.
 * The Python process runs asynchronously: the simulator lives in this process's event loop.
 */
test('splunk-sdk drives the Splunk simulator: login, kvstore.create, batch_save, query, delete_by_id, an ES ip_intel row, an app that is not installed', {
  skip,
  timeout: 120_000,
}, async () => {
  const sim = new SplunkSimulator({ bearerTokens: ['jwt-oracle'] });
  const { base } = await sim.start();
  try {
    const { steps: o, ok } = await runOracle('splunk_sdk_check.py', [
      base,
      'admin',
      'changeme',
      'stixgate',
      'jwt-oracle',
    ]);
    assert.equal(ok('login'), 'Splunk');
    assert.deepEqual(ok('version'), [9, 0, 0]);
    assert.equal(ok('create'), 201);
    assert.equal(ok('exists'), true);
    assert.deepEqual(ok('fields'), { 'field.score': 'number', 'field.value': 'string' });
    assert.deepEqual(ok('batch_save'), ['k0', 'k1', 'k2', 'k3', 'k4']);
    assert.deepEqual(ok('batch_save_again'), ['k1']);
    const all = ok('query') as { _key: string; score: number }[];
    assert.equal(all.length, 5);
    assert.deepEqual(
      all.find((d) => d._key === 'k1'),
      { _key: 'k1', value: '10.0.0.1', score: 99, _user: 'nobody' },
    );
    assert.deepEqual(ok('query_filtered'), [
      { _key: 'k1', score: 99 },
      { _key: 'k4', score: 40 },
      { _key: 'k3', score: 30 },
    ]);
    assert.deepEqual(ok('query_by_id'), { _key: 'k1', value: '10.0.0.1', score: 99, _user: 'nobody' });
    assert.deepEqual(ok('insert'), { _key: 'new' });
    assert.deepEqual(ok('update'), { _key: 'new' });
    assert.equal(ok('delete_by_id'), 200);
    assert.deepEqual(ok('query_after_delete'), ['k1', 'k2', 'k3', 'k4', 'new']);
    assert.equal(must(o.delete_missing, 'o.delete_missing').ok, false);
    assert.match(
      must(must(o.delete_missing, 'o.delete_missing').error, 'o.delete_missing.error'),
      /^HTTPError: HTTP 404 Not Found/,
    );
    assert.equal(ok('delete_query'), 200);
    assert.equal(ok('count_after_delete_query'), 4);
    assert.equal(ok('es_ip_intel'), true);
    assert.deepEqual(ok('es_batch_save'), {
      _key: 'sdk1',
      ip: '198.51.100.7',
      weight: 80,
      threat_key: 'sdk',
      time: 1767225600,
      _user: 'nobody',
    });
    assert.equal(must(o.unknown_app, 'o.unknown_app').ok, false);
    assert.match(
      must(must(o.unknown_app, 'o.unknown_app').error, 'o.unknown_app.error'),
      /^HTTPError: HTTP 404 Not Found .*Application does not exist: no_such_app/s,
    );
    assert.equal(ok('bearer_query'), 4);
    assert.equal(ok('bad_login'), 'AuthenticationError');
    assert.equal(ok('delete_collection'), true);
    assert.equal(ok('exists_after_delete'), false);
    // The SDK authenticated with the session cookie of login(cookie=1) and with Bearer.
    assert.ok(sim.requests.some((q) => q.auth === 'Bearer' && q.path.endsWith('/storage/collections/data/sdk_check/')));
    assert.equal(sim.collection('stixgate', 'sdk_check'), undefined);
  } finally {
    await sim.close();
  }
});
