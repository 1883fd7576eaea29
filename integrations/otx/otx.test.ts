import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { OtxSimulator, makeOtxIndicator, makePulse } from './simulator.js';
import { component, harness } from '../../test/helpers/source-harness.js';
import { otxSource } from './index.js';
import { mapPulse } from './map.js';
import { loadOtxTypes } from './types-table.js';
import { corpusPath } from '../../test/helpers/corpus.js';
import { MAPPINGS_DIR } from '../../src/paths.js';
import { deterministicId } from '../../src/core/ids.js';
import { TLP_MARKING_BY_LEVEL } from '../../src/core/stix.js';
import { must } from '../../test/helpers/must.js';

const KEY = 'otx-test-key-5f3c2a1b0e9d8c7b6a5f4e3d2c1b0a99';
const NOW = Date.UTC(2026, 2, 1, 12, 0, 0);
const MIN = 60_000;

function pulse(i: number, modified: number) {
  return makePulse(i, modified, [
    makeOtxIndicator(i * 10 + 1, 'IPv4', `192.0.2.${i}`, modified - 2 * MIN),
    makeOtxIndicator(i * 10 + 2, 'hostname', `c2-${i}.example.com`, modified - 2 * MIN),
    makeOtxIndicator(i * 10 + 3, 'FileHash-SHA256', i.toString(16).padStart(2, '0').repeat(32), modified - 2 * MIN),
  ]);
}

async function setup(extra: Record<string, unknown> = {}) {
  const sim = await new OtxSimulator(KEY).start();
  const h = await harness(
    component(
      [otxSource],
      {
        type: 'otx',
        url: sim.base,
        api_key: '${OTX_KEY}',
        page_size: 2,
        rate_limit: { max_per_minute: 6000 },
        ...extra,
      },
      { OTX_KEY: KEY },
    ),
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

test('OTX: subscribed pulses over several pages, nothing new on the second poll, a new pulse arrives', async () => {
  const { sim, h, close } = await setup();
  try {
    for (let i = 1; i <= 3; i++) sim.pulses.push(pulse(i, NOW - i * 10 * MIN));
    const r1 = await h.run(NOW);
    assert.equal(r1.pages, 2);
    assert.equal(r1.received, 3);
    // per pulse: 3 indicators + report; shared: 1 malware + 1 attack-pattern
    assert.equal(r1.created, 3 * 4 + 2);
    assert.equal(r1.rejected, 0);
    assert.equal(await h.cursor(), new Date(NOW - 10 * MIN).toISOString());
    assert.equal(
      must(sim.requests[0], 'sim.requests[0]').path,
      `/api/v1/pulses/subscribed?limit=2&modified_since=${encodeURIComponent(new Date(NOW - 30 * 86_400_000).toISOString())}`,
    );
    assert.equal(must(sim.requests[0], 'sim.requests[0]').headers['x-otx-api-key'], KEY);
    assert.match(must(sim.requests[1], 'sim.requests[1]').path, /[?&]page=2/);

    const r2 = await h.run(NOW + MIN);
    assert.equal(r2.created, 0);
    assert.equal(r2.updated, 0);
    assert.match(
      must(sim.requests[2], 'sim.requests[2]').path,
      new RegExp(`modified_since=${encodeURIComponent(new Date(NOW - 70 * MIN).toISOString())}`),
    );

    sim.pulses.push(pulse(4, NOW + 5 * MIN));
    const r3 = await h.run(NOW + 10 * MIN);
    assert.equal(r3.created, 4);
    assert.equal(await h.cursor(), new Date(NOW + 5 * MIN).toISOString());

    const report = (await h.store.get(
      deterministicId('report', `otx:pulse:${(0x60c8a4e0 + 4).toString(16).padStart(24, '0')}`),
    )) as any;
    assert.equal(report.object_refs.length, 5);
    assert.ok(report.object_refs.includes(deterministicId('attack-pattern', 'mitre-attack:T1059')));
    assert.ok(report.object_refs.includes(deterministicId('malware', 'family:mozi')));
    assert.deepEqual(report.object_marking_refs, [TLP_MARKING_BY_LEVEL.clear]);
    assert.deepEqual(report.labels, ['mozi', 'iot']);
    assert.equal(report.external_references[1].url, 'https://blog.example.org/mozi');
  } finally {
    await close();
  }
});

test('OTX: a wrong API key is an auth error; the cursor stays', async () => {
  const { h, close } = await setup({ api_key: 'wrong' });
  try {
    await assert.rejects(
      h.run(NOW),
      (e: any) =>
        e.code === 'STIXGATE_ERR_HTTP_STATUS' &&
        e.reason === 'auth' &&
        /OTX refused the API key \(HTTP 403\)/.test(e.message) &&
        !e.message.includes('wrong'),
    );
    assert.equal(await h.cursor(), undefined);
  } finally {
    await close();
  }
});

async function canary() {
  const seen = { requests: 0, keyBytes: 0 };
  const server = createServer((req: IncomingMessage, res) => {
    seen.requests++;
    seen.keyBytes += JSON.stringify(req.headers).split(KEY).length - 1;
    res.end('{"results":[]}');
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return {
    seen,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1/pulses/subscribed?page=2`,
    close: () => server.close(),
  };
}

test('F25: a `next` link to another host is refused, nothing reaches it, the cursor stays', async () => {
  const c = await canary();
  const { sim, h, close } = await setup();
  try {
    for (let i = 1; i <= 3; i++) sim.pulses.push(pulse(i, NOW - i * MIN));
    sim.nextOverride = c.url;
    await assert.rejects(
      h.run(NOW),
      (e: any) => e.code === 'STIXGATE_ERR_HTTP_SSRF' && e.reason === 'pagination_origin',
    );
    sim.nextOverride = 'file:///etc/passwd';
    await assert.rejects(h.run(NOW), (e: any) => e.reason === 'pagination_origin');
    assert.equal(c.seen.requests, 0);
    assert.equal(await h.cursor(), undefined);
  } finally {
    await close();
    c.close();
  }
});

test('N8: a redirect to another host is refused with 0 key bytes at the canary; N6: 429 Retry-After honoured', async () => {
  const c = await canary();
  const { sim, h, close } = await setup();
  try {
    sim.pulses.push(pulse(1, NOW - MIN));
    sim.faults.push({ status: 302, headers: { location: c.url } });
    await assert.rejects(
      h.run(NOW),
      (e: any) => e.code === 'STIXGATE_ERR_HTTP_REDIRECT' && e.reason === 'redirect_cross_origin',
    );
    assert.equal(c.seen.requests, 0);
    assert.equal(c.seen.keyBytes, 0);
    sim.faults.push({ status: 429, headers: { 'retry-after': '1' } });
    const before = sim.requests.length;
    const r = await h.run(NOW);
    assert.equal(r.created, 6);
    const gap =
      must(sim.requests[before + 1], 'sim.requests[before + 1]').at -
      must(sim.requests[before], 'sim.requests[before]').at;
    assert.ok(gap >= 990 && gap < 3000, `retried after ${gap} ms`);
  } finally {
    await close();
    c.close();
  }
});

test('OTX: a server that repeats its `next` link stops with pagination_loop', async () => {
  const { sim, h, close } = await setup();
  try {
    for (let i = 1; i <= 3; i++) sim.pulses.push(pulse(i, NOW - i * MIN));
    sim.nextOverride = `${sim.base}/api/v1/pulses/subscribed?limit=2&modified_since=${encodeURIComponent(new Date(NOW - 30 * 86_400_000).toISOString())}`;
    await assert.rejects(h.run(NOW), (e: any) => e.reason === 'pagination_loop');
    const ctx = { id: 't', logger: h.comp.logger, http: h.comp.http, signal: new AbortController().signal, now: NOW };
    assert.equal(
      await must(h.comp.source.probe, 'h.comp.source.probe').call(h.comp.source, ctx),
      'OTX API key accepted (user stixgate-test)',
    );
  } finally {
    await close();
  }
});

test('mapPulse: the real OTX indicator records, CVEs, unmapped types and expiration', {
  skip: corpusPath('elastic-ecs-rfc0008-samples/otx_pulse_indicators.ndjson').skip,
}, () => {
  const real = readFileSync(corpusPath('elastic-ecs-rfc0008-samples/otx_pulse_indicators.ndjson').path, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  const p = makePulse(1, NOW, [
    ...real,
    makeOtxIndicator(9, 'CVE', 'CVE-2021-44228', NOW),
    makeOtxIndicator(10, 'YARA', 'rule x {}', NOW),
    makeOtxIndicator(11, 'IPv4', '999.1.1.1', NOW),
    { ...makeOtxIndicator(12, 'URL', 'http://evil.example/a', NOW), expiration: '2026-04-01T00:00:00' },
  ]);
  (p as any).tlp = 'amber';
  const m = mapPulse(p, 0, {
    now: '2026-03-01T12:00:00.000Z',
    source: 't',
    table: loadOtxTypes(MAPPINGS_DIR),
    validDays: 10,
  });
  const byType = (t: string) => m.items.map((i) => i.object as any).filter((o) => o.type === t);
  assert.deepEqual(
    byType('indicator').map((o) => o.pattern),
    [
      "[ipv4-addr:value = '86.104.194.30']",
      ...real
        .slice(1)
        .map((r) =>
          r.type === 'FileHash-MD5'
            ? `[file:hashes.MD5 = '${r.indicator.toLowerCase()}']`
            : `[domain-name:value = '${r.indicator.toLowerCase()}']`,
        ),
      "[url:value = 'http://evil.example/a']",
    ],
  );
  assert.equal(byType('indicator')[3].valid_until, '2026-04-01T00:00:00.000Z');
  assert.deepEqual(byType('indicator')[0].object_marking_refs, [TLP_MARKING_BY_LEVEL.amber]);
  assert.equal(byType('vulnerability')[0].id, deterministicId('vulnerability', 'CVE-2021-44228'), 'the CISA KEV id');
  assert.deepEqual(
    m.rejections.map((r) => [r.reason, r.location?.path]),
    [
      ['unmapped_type', 'indicators[4]'],
      ['invalid_ipv4', 'indicators[5]'],
    ],
  );
  assert.equal(byType('report')[0].object_refs.length, 2 + 3 + 1 + 1);
});

test('OTX: a pulse without `created` keeps created ≤ modified (found by the fuzz suite)', () => {
  const table = loadOtxTypes(MAPPINGS_DIR);
  const env = { now: '2026-01-15T12:00:00.000Z', source: 'otx', table };
  const pulse = {
    id: '65a1b2c3d4e5f60718293a4b',
    name: 'p',
    created: null,
    modified: '2026-01-02T00:00:00.000000',
    indicators: [{ indicator: '198.51.100.30', type: 'IPv4' }],
  };
  const m = mapPulse(pulse, 0, env);
  const report = must(
    m.items.map((i) => i.object).find((o) => o.type === 'report'),
    "m.items.map((i) => i.object).find((o) => o.type === 'repo...",
  );
  assert.equal(report.created, '2026-01-02T00:00:00.000Z');
  assert.equal(report.modified, '2026-01-02T00:00:00.000Z');
  const older = must(
    mapPulse({ ...pulse, created: '2026-01-05T00:00:00' }, 0, env)
      .items.map((i) => i.object)
      .find((o) => o.type === 'report'),
    "mapPulse({ ...pulse, created: '2026-01-05T00:00:00' }, 0,...",
  );
  assert.equal(older.created, '2026-01-05T00:00:00.000Z');
  assert.equal(older.modified, '2026-01-05T00:00:00.000Z');
});
