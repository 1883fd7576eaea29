import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StixgateError } from '../../src/core/errors.js';
import { createQradarSink } from './sink.js';
import { config, ictx, records, runContext, startSim, TOKEN } from './test-kit.js';
import { sinkEndpoints } from './rights.js';
import { must } from '../../test/helpers/must.js';

/**
 * Domains, tenants and the rights of the token (QRadar 26.0 OpenAPI: bulk_load `{domain_id}` "numeric
 * domain_id … or SHARED for Admin users. Must be a domain ID for which the caller has access";
 * set_entries PATCH 422 "An invalid domain ID was specified"; `/help/endpoints` caller_has_access).
 */

async function rejectsWith(p: Promise<unknown>, code: string, re: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof StixgateError, String(e));
    assert.equal(e.code, code, e.message);
    assert.match(e.message, re);
    return true;
  });
}

const DOMAIN_USER = { [TOKEN]: { admin: false, domains: [2] } };

test('legacy (API 26.0): a non-admin token cannot write the SHARED domain; with domain_id the values are tagged and removed in that domain', async (t) => {
  const { sim, base } = await startSim(t, { apiVersion: '26.0', domains: [0, 2, 3], access: DOMAIN_USER });
  const ctx = runContext(t);
  const shared = createQradarSink(config(base, { api: 'legacy' }), ictx);
  await must(shared.prepare, 'shared.prepare').call(shared, ctx);
  await rejectsWith(shared.upsert(records(['1.2.3.4']), ctx), 'STIXGATE_ERR_SINK_AUTH', /403/);
  assert.deepEqual(sim.values('stixgate - IPv4'), []);

  const sink = createQradarSink(config(base, { api: 'legacy', domain_id: 2 }), ictx);
  await sink.upsert(records(['1.2.3.4', 'evil.example']), ctx);
  assert.ok(sim.requests.some((r) => r.path === '/api/reference_data/sets/bulk_load/SHARED/stixgate%20-%20IPv4/2'));
  assert.deepEqual(
    sim.elements('stixgate - IPv4').map((e) => [e.value, e.domainId]),
    [['1.2.3.4', 2]],
  );
  await sink.remove(records(['1.2.3.4'], 'remove'), ctx);
  assert.ok(sim.requests.some((r) => r.method === 'DELETE' && r.query === '?domain_id=2'));
  assert.deepEqual(sim.values('stixgate - IPv4'), []);

  // a domain the token has no access to is "not found" (404/1011): a configuration error naming domain_id
  const other = createQradarSink(config(base, { api: 'legacy', domain_id: 3 }), ictx);
  await rejectsWith(other.upsert(records(['5.6.7.8']), ctx), 'STIXGATE_ERR_CONFIG_INVALID', /domain_id 3.*1011/);
});

test('legacy before API 26.0 has no domain path (bulk_load/{name}): domain_id is refused there, naming api: collections', async (t) => {
  const { base } = await startSim(t, { apiVersion: '20.0' });
  const ctx = runContext(t);
  const sink = createQradarSink(config(base, { api: 'legacy', domain_id: 2 }), ictx);
  await rejectsWith(
    must(sink.prepare, 'sink.prepare').call(sink, ctx),
    'STIXGATE_ERR_CONFIG_INVALID',
    /domain_id .*API 26\.0.*api: collections/,
  );
  assert.throws(
    () => createQradarSink(config(base, { api: 'legacy', tenant_id: 1 }), ictx),
    /tenant_id: needs api: collections/,
  );
});

test('collections: entries carry domain_id; a domain the token cannot use is a configuration error (422/23005)', async (t) => {
  const { sim, base } = await startSim(t, { domains: [0, 2, 3], access: DOMAIN_USER });
  const ctx = runContext(t);
  const sink = createQradarSink(config(base, { domain_id: 2 }), ictx);
  await must(sink.prepare, 'sink.prepare').call(sink, ctx);
  assert.deepEqual(await sink.upsert(records(['1.2.3.4']), ctx), [{ status: 'ok' }]);
  assert.deepEqual(
    sim.elements('stixgate - IPv4').map((e) => [e.value, e.domainId]),
    [['1.2.3.4', 2]],
  );
  const other = createQradarSink(config(base, { domain_id: 3 }), ictx);
  await rejectsWith(other.upsert(records(['5.6.7.8']), ctx), 'STIXGATE_ERR_CONFIG_INVALID', /domain_id 3.*23005/);
  assert.deepEqual(sim.values('stixgate - IPv4'), ['1.2.3.4']);
});

test('collections: tenant_id creates the sets in the tenant namespace; a tenant token without it is told to set tenant_id', async (t) => {
  const { sim, base } = await startSim(t, { access: { [TOKEN]: { admin: false, tenantId: 7 } } });
  const ctx = runContext(t);
  await rejectsWith(
    must(createQradarSink(config(base), ictx).prepare, 'createQradarSink(config(base), ictx).prepare').call(
      createQradarSink(config(base), ictx),
      ctx,
    ),
    'STIXGATE_ERR_CONFIG_INVALID',
    /namespace SHARED.*10003.*set to its tenant/,
  );
  const sink = createQradarSink(config(base, { tenant_id: 7 }), ictx);
  await must(sink.prepare, 'sink.prepare').call(sink, ctx);
  const set = must(sim.set('stixgate - IPv4'), "sim.set('stixgate - IPv4')");
  assert.deepEqual([set.namespace, set.tenantId], ['TENANT', 7]);
  await rejectsWith(
    must(
      createQradarSink(config(base, { tenant_id: 8, set_prefix: 'other - ' }), ictx).prepare,
      'createQradarSink(config(base, { tenant_id: 8, set_prefix:...',
    ).call(createQradarSink(config(base, { tenant_id: 8, set_prefix: 'other - ' }), ictx), ctx),
    'STIXGATE_ERR_CONFIG_INVALID',
    /tenant_id.*10004/,
  );
});

for (const g of [
  { name: 'collections (API 26.0)', apiVersion: '26.0', api: 'collections' as const },
  { name: 'legacy (API 12.0)', apiVersion: '12.0', api: 'legacy' as const },
]) {
  test(`${g.name}: the probe checks the token's rights on every endpoint the sink uses (/help/endpoints), changing nothing`, async (t) => {
    const need = sinkEndpoints(g.api, Number(g.apiVersion));
    const write = must(
      need.find((e) => !e.startsWith('GET ')),
      "need.find((e) => !e.startsWith('GET '))",
    );
    const { sim, base } = await startSim(t, {
      apiVersion: g.apiVersion,
      tokens: [TOKEN, 'narrow', 'reader'],
      readOnlyTokens: ['reader'],
      access: { narrow: { denied: [write] } },
    });
    const ctx = runContext(t);
    assert.match(
      await must(createQradarSink(config(base), ictx).probe, 'createQradarSink(config(base), ictx).probe').call(
        createQradarSink(config(base), ictx),
        ctx,
      ),
      new RegExp(`; the token may call all ${need.length} endpoints the sink uses$`),
    );
    await rejectsWith(
      must(
        createQradarSink(config(base, { token: 'narrow' }), ictx).probe,
        "createQradarSink(config(base, { token: 'narrow' }), ictx)...",
      ).call(createQradarSink(config(base, { token: 'narrow' }), ictx), ctx),
      'STIXGATE_ERR_SINK_AUTH',
      new RegExp(`may not call ${write.replace(/[{}/]/g, '\\$&')} \\(`),
    );
    const writes = need.filter((e) => !e.startsWith('GET '));
    await rejectsWith(
      must(
        createQradarSink(config(base, { token: 'reader' }), ictx).probe,
        "createQradarSink(config(base, { token: 'reader' }), ictx)...",
      ).call(createQradarSink(config(base, { token: 'reader' }), ictx), ctx),
      'STIXGATE_ERR_SINK_AUTH',
      new RegExp(`may not call ${writes.map((e) => e.replace(/[{}/]/g, '\\$&')).join(', ')} \\(`),
    );
    assert.ok(
      sim.requests.every((r) => r.method === 'GET'),
      'the probe only reads',
    );
    assert.deepEqual(sim.sets(), []);
    // what the probe says, the role check enforces: the narrow token is refused that write
    const narrow = createQradarSink(config(base, { token: 'narrow' }), ictx);
    await assert.rejects(
      async () => {
        await must(narrow.prepare, 'narrow.prepare').call(narrow, ctx);
        await narrow.upsert(records(['1.2.3.4']), ctx);
      },
      (e: unknown) => e instanceof StixgateError && e.code === 'STIXGATE_ERR_SINK_AUTH',
    );
  });
}
