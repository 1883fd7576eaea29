import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AbusechSimulator, makeIocRecord, makeSampleRecord, makeUrlRecord } from './simulator.js';
import { component, harness } from '../../test/helpers/source-harness.js';
import { urlhausSource, threatfoxSource, malwarebazaarSource } from './index.js';
import { must } from '../../test/helpers/must.js';

const KEY = '0123456789abcdef0123456789abcdef0123456789abcdef';
const NOW = Date.UTC(2026, 2, 1, 12, 0, 0);
const defs = [urlhausSource, threatfoxSource, malwarebazaarSource];

async function setup(type: string, path: string, extra: Record<string, unknown> = {}, key = KEY) {
  const sim = await new AbusechSimulator({ authKey: KEY, now: () => NOW }).start();
  const h = await harness(
    component(defs, { type, url: `${sim.base}${path}`, auth_key: key, rate_limit: { max_per_minute: 6000 }, ...extra }),
  );
  return {
    sim,
    h,
    async close() {
      await h.close();
      await sim.close();
    },
  };
}

const authError = (what: RegExp) => (e: any) => {
  assert.equal(e.code, 'STIXGATE_ERR_HTTP_STATUS');
  assert.equal(e.reason, 'auth');
  assert.equal(e.retryable, false);
  assert.match(e.message, what);
  assert.doesNotMatch(e.message, /0123456789abcdef|ffffffff/);
  return true;
};

test('a wrong Auth-Key (unknown_auth_key) is a clear, non-retryable auth error; the cursor stays', async () => {
  const { sim, h, close } = await setup(
    'abusech_threatfox',
    '/threatfox/api/v1/',
    {},
    'ffffffffffffffffffffffffffffffff',
  );
  try {
    sim.iocs.push(makeIocRecord(1, NOW));
    await assert.rejects(
      h.run(NOW),
      authError(/^t: ThreatFox refused the Auth-Key \(unknown_auth_key\): set auth_key/),
    );
    assert.equal(sim.requests.length, 1, 'not retried');
    assert.equal(await h.cursor(), undefined);
  } finally {
    await close();
  }
});

test('a malformed Auth-Key (illegal_auth_key) and HTTP 401/403 are auth errors', async () => {
  const { h, close } = await setup('abusech_malwarebazaar', '/bazaar/api/v1/', {}, 'not a key!');
  try {
    await assert.rejects(h.run(NOW), authError(/MalwareBazaar refused the Auth-Key \(illegal_auth_key\)/));
  } finally {
    await close();
  }
  const b = await setup('abusech_urlhaus', '/urlhaus/v1/');
  try {
    b.sim.faults.push(
      { status: 401, body: '{"query_status":"unknown_auth_key"}' },
      { status: 403, body: '<html>forbidden</html>' },
    );
    await assert.rejects(b.h.run(NOW), authError(/URLhaus refused the Auth-Key \(HTTP 401, unknown_auth_key\)/));
    await assert.rejects(b.h.run(NOW), authError(/URLhaus refused the Auth-Key \(HTTP 403\)/));
  } finally {
    await b.close();
  }
});

test('an unexpected query_status is named in the error; a non-JSON answer is a parse error', async () => {
  const { sim, h, close } = await setup('abusech_threatfox', '/threatfox/api/v1/');
  try {
    sim.faults.push(
      { status: 200, body: '{"query_status":"illegal_days"}' },
      { status: 200, body: '{"query_status":"ok","data":{"1":{}}}' },
      { status: 200, body: 'not json' },
    );
    await assert.rejects(
      h.run(NOW),
      (e: any) => e.reason === 'query_status' && /answered query_status illegal_days/.test(e.message),
    );
    await assert.rejects(h.run(NOW), (e: any) => e.reason === 'not_list');
    await assert.rejects(h.run(NOW), (e: any) => e.code === 'STIXGATE_ERR_INPUT_PARSE' && e.reason === 'json');
  } finally {
    await close();
  }
});

test('N6: 429 with Retry-After is honoured before the next request (POST queries are retried)', async () => {
  const { sim, h, close } = await setup('abusech_threatfox', '/threatfox/api/v1/');
  try {
    sim.iocs.push(makeIocRecord(1, NOW - 60_000));
    sim.faults.push({ status: 429, headers: { 'retry-after': '1' } });
    const r = await h.run(NOW);
    assert.equal(r.created, 3);
    assert.equal(sim.requests.length, 2);
    const gap = must(sim.requests[1], 'sim.requests[1]').at - must(sim.requests[0], 'sim.requests[0]').at;
    assert.ok(gap >= 990, `retried after ${gap} ms`);
    assert.ok(gap < 3000, `retried after ${gap} ms`);
  } finally {
    await close();
  }
});

test('N2: a connection reset mid-body is retried and the partial body discarded', async () => {
  const { sim, h, close } = await setup('abusech_malwarebazaar', '/bazaar/api/v1/');
  try {
    sim.samples.push(makeSampleRecord(1, NOW - 60_000));
    sim.faults.push({ status: 200, reset: true });
    const r = await h.run(NOW);
    assert.equal(r.created, 3);
    assert.equal(sim.requests.length, 2);
  } finally {
    await close();
  }
});

test('N8: a redirect to another host is refused and the Auth-Key never reaches it', async () => {
  let canaryBytes = 0;
  let canaryRequests = 0;
  const canary = createServer((req: IncomingMessage, res) => {
    canaryRequests++;
    canaryBytes += JSON.stringify(req.headers).split(KEY).length - 1;
    res.end('{}');
  });
  await new Promise<void>((ok) => canary.listen(0, '127.0.0.1', ok));
  const canaryUrl = `http://127.0.0.1:${(canary.address() as AddressInfo).port}/steal`;
  const { sim, h, close } = await setup('abusech_urlhaus', '/urlhaus/v1/');
  try {
    sim.urls.push(makeUrlRecord(1, NOW));
    for (const status of [301, 302, 307, 308]) sim.faults.push({ status, headers: { location: canaryUrl } });
    for (let i = 0; i < 4; i++) {
      await assert.rejects(
        h.run(NOW),
        (e: any) => e.code === 'STIXGATE_ERR_HTTP_REDIRECT' && e.reason === 'redirect_cross_origin',
      );
    }
    assert.equal(canaryRequests, 0);
    assert.equal(canaryBytes, 0);
    assert.equal(await h.cursor(), undefined);
  } finally {
    await close();
    canary.close();
  }
});

test('N9: redirects to file:, to the metadata address or to http from https are refused; loopback needs allow_private', async () => {
  const { sim, h, close } = await setup('abusech_urlhaus', '/urlhaus/v1/');
  try {
    sim.faults.push(
      { status: 302, headers: { location: 'file:///etc/passwd' } },
      { status: 302, headers: { location: 'http://169.254.169.254/latest/meta-data/' } },
    );
    await assert.rejects(h.run(NOW), (e: any) => e.code === 'STIXGATE_ERR_HTTP_SSRF' && e.reason === 'ssrf');
    await assert.rejects(
      h.run(NOW),
      (e: any) => e.code === 'STIXGATE_ERR_HTTP_REDIRECT' && e.reason === 'redirect_cross_origin',
    );
  } finally {
    await close();
  }
  // the configuration refuses a loopback API URL unless allow_private is set
  assert.throws(
    () =>
      component(defs, {
        type: 'abusech_urlhaus',
        url: 'http://127.0.0.1:9/urlhaus/v1/',
        auth_key: KEY,
        allow_private: false,
      }),
    (e: any) => e.code === 'STIXGATE_ERR_CONFIG_INVALID' && /sources\.t\.url.*private, loopback/.test(e.message),
  );
});
