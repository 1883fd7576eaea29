import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { LookupAddress } from 'node:dns';
import { StixgateError } from '../../src/core/errors.js';
import { createHttpClient } from '../../src/http/client.js';
import { canary, policy } from '../helpers/ssrf-kit.js';
import { startForwardProxy } from '../helpers/forward-proxy.js';

/**
 * FAULTS N12 through a forward proxy: the proxy resolves the target, so the connect-time check
 * never sees the address. A name that resolves to a denied range is refused before anything is
 * sent to the proxy. Here the proxy resolves every name to a loopback canary.
 */
const NAMES: Record<string, LookupAddress[]> = {
  'rebind.test': [{ address: '127.0.0.1', family: 4 }],
  'mixed.test': [
    { address: '93.184.216.34', family: 4 },
    { address: '10.0.0.7', family: 4 },
  ],
  'mapped.test': [{ address: '::ffff:127.0.0.1', family: 6 }],
  'meta.test': [{ address: '169.254.169.254', family: 4 }],
  'v6.test': [{ address: '::1', family: 6 }],
  'public.test': [{ address: '93.184.216.34', family: 4 }],
};
const resolver = async (h: string): Promise<LookupAddress[]> => {
  const a = NAMES[h];
  if (!a) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${h}`), { code: 'ENOTFOUND' });
  return a;
};

test('N12 with a proxy: names resolving to denied ranges are refused before the proxy (configured proxy and HTTP_PROXY); 0 proxy requests, 0 canary connections', async (t) => {
  const c = await canary();
  const hosts = Object.fromEntries([...Object.keys(NAMES), 'proxy-only.test'].map((n) => [n, '127.0.0.1']));
  const proxy = await startForwardProxy(hosts);
  t.after(async () => {
    await proxy.close();
    c.server.close();
  });
  const configured = createHttpClient(policy({ proxy: { url: proxy.url } }), { component: 'feed_p', resolver });
  t.after(() => configured.close());
  for (const name of ['rebind.test', 'mixed.test', 'mapped.test', 'meta.test', 'v6.test']) {
    await assert.rejects(configured.request({ url: `http://${name}:${c.port}/feed` }), (e: unknown) => {
      assert.ok(e instanceof StixgateError, String(e));
      assert.equal(e.code, 'STIXGATE_ERR_HTTP_SSRF', e.message);
      assert.equal(e.reason, 'ssrf');
      assert.match(e.message, new RegExp(`${name.replace('.', '\\.')} resolves to a denied address`));
      return true;
    });
  }
  assert.equal(proxy.hits.length, 0);
  assert.equal(c.count(), 0);

  // the same through HTTP_PROXY from the environment
  const saved = process.env.HTTP_PROXY;
  process.env.HTTP_PROXY = proxy.url;
  try {
    const fromEnv = createHttpClient(policy(), { component: 'feed_e', resolver });
    await assert.rejects(
      fromEnv.request({ url: `http://rebind.test:${c.port}/feed` }),
      (e: StixgateError) => e.code === 'STIXGATE_ERR_HTTP_SSRF',
    );
    await fromEnv.close();
  } finally {
    if (saved === undefined) delete process.env.HTTP_PROXY;
    else process.env.HTTP_PROXY = saved;
  }
  assert.equal(proxy.hits.length, 0);
  assert.equal(c.count(), 0);

  // controls: a public name, and a name only the proxy can resolve, are sent to the proxy
  assert.equal(await (await configured.request({ url: `http://public.test:${c.port}/feed` })).text(), 'canary');
  assert.equal(await (await configured.request({ url: `http://proxy-only.test:${c.port}/feed` })).text(), 'canary');
  assert.deepEqual(
    proxy.hits.map((h) => h.target),
    [`public.test:${c.port}`, `proxy-only.test:${c.port}`],
  );
  // and allow_private turns the check off
  const open = createHttpClient(policy({ allowPrivate: true, proxy: { url: proxy.url } }), {
    component: 'feed_o',
    resolver,
  });
  assert.equal(await (await open.request({ url: `http://rebind.test:${c.port}/feed` })).text(), 'canary');
  await open.close();
});
