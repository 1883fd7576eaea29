import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AbusechSimulator, makeIocRecord, makePayloadRecord, makeSampleRecord, makeUrlRecord } from './simulator.js';
import { component, harness } from '../../test/helpers/source-harness.js';
import { urlhausSource, threatfoxSource, malwarebazaarSource } from './index.js';
import { threatfoxDays } from './threatfox/index.js';
import { bazaarSelector } from './malwarebazaar/index.js';
import { MAX_SKEW_MS } from '../../src/formats/time-window.js';
import { must } from '../../test/helpers/must.js';

const KEY = 'a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718';
const NOW = Date.UTC(2026, 2, 1, 12, 0, 0);
const MIN = 60_000;
const defs = [urlhausSource, threatfoxSource, malwarebazaarSource];

async function setup(type: string, path: string, extra: Record<string, unknown> = {}) {
  const sim = await new AbusechSimulator({ authKey: KEY, now: () => NOW }).start();
  const h = await harness(
    component(
      defs,
      { type, url: `${sim.base}${path}`, auth_key: '${ABUSECH_KEY}', rate_limit: { max_per_minute: 6000 }, ...extra },
      { ABUSECH_KEY: KEY },
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

test('URLhaus urls: full ingest, nothing new on the second poll, a URL added between polls arrives', async () => {
  const { sim, h, close } = await setup('abusech_urlhaus', '/urlhaus/v1/');
  try {
    for (let i = 0; i < 5; i++) sim.urls.push(makeUrlRecord(i, NOW - (10 + i) * MIN));
    const r1 = await h.run(NOW);
    assert.equal(r1.received, 5);
    assert.equal(r1.created, 5);
    assert.equal(r1.rejected, 0);
    assert.equal(await h.cursor(), new Date(NOW - 10 * MIN).toISOString());
    assert.equal(must(sim.requests[0], 'sim.requests[0]').path, '/urlhaus/v1/urls/recent/limit/1000/');
    assert.equal(must(sim.requests[0], 'sim.requests[0]').headers['auth-key'], KEY);

    const r2 = await h.run(NOW + 5 * MIN);
    assert.equal(r2.created, 0);
    assert.equal(r2.updated, 0);
    assert.equal(r2.mapped, 5, 'the whole overlap window is re-read');

    sim.urls.push(makeUrlRecord(99, NOW + 6 * MIN));
    const r3 = await h.run(NOW + 10 * MIN);
    assert.equal(r3.created, 1);
    assert.equal(await h.cursor(), new Date(NOW + 6 * MIN).toISOString());
    const ind = (await h.store.query({ type: 'indicator', limit: 100 })) as unknown as {
      objects: { pattern: string }[];
    };
    assert.equal(ind.objects.length, 6);
    assert.ok(ind.objects.some((o) => o.pattern === "[url:value = 'http://198.51.100.99:30099/Mozi.m']"));
  } finally {
    await close();
  }
});

test('URLhaus: records older than cursor - overlap are skipped; a late record inside the overlap still arrives', async () => {
  const { sim, h, close } = await setup('abusech_urlhaus', '/urlhaus/v1/', { overlap_secs: 1800 });
  try {
    sim.urls.push(makeUrlRecord(1, NOW - 2 * 3_600_000), makeUrlRecord(2, NOW - MIN));
    assert.equal((await h.run(NOW)).created, 2);
    // published late, dated 20 minutes before the cursor: inside the 30-minute overlap
    sim.urls.push(makeUrlRecord(3, NOW - 21 * MIN));
    const r = await h.run(NOW + MIN);
    assert.equal(r.received, 3);
    assert.equal(r.mapped, 2, 'the record older than the overlap is not mapped again');
    assert.equal(r.created, 1);
  } finally {
    await close();
  }
});

test('URLhaus payloads: file indicators, signatures as malware families', async () => {
  const { sim, h, close } = await setup('abusech_urlhaus', '/urlhaus/v1/', { endpoint: 'payloads', limit: 50 });
  try {
    for (let i = 0; i < 4; i++) sim.payloads.push(makePayloadRecord(i, NOW - i * MIN));
    const r = await h.run(NOW);
    // 4 indicators + 1 malware (AgentTesla, records 1 and 3) + 2 relationships
    assert.equal(r.created, 7);
    assert.equal(must(sim.requests[0], 'sim.requests[0]').path, '/urlhaus/v1/payloads/recent/limit/50/');
  } finally {
    await close();
  }
});

test('ThreatFox: get_iocs with days from the cursor, confidence and malware carried', async () => {
  const { sim, h, close } = await setup('abusech_threatfox', '/threatfox/api/v1/');
  try {
    sim.iocs.push(
      makeIocRecord(1, NOW - 2 * MIN),
      makeIocRecord(2, NOW - 3 * MIN, 'domain'),
      makeIocRecord(3, NOW - 4 * MIN, 'url'),
      makeIocRecord(4, NOW - 5 * MIN, 'sha256_hash'),
    );
    const r1 = await h.run(NOW);
    assert.equal(r1.created, 4 + 1 + 4);
    assert.deepEqual(JSON.parse(must(sim.requests[0], 'sim.requests[0]').body), { query: 'get_iocs', days: 1 });
    assert.equal(must(sim.requests[0], 'sim.requests[0]').headers['content-type'], 'application/json');
    const ind = (await h.store.query({ type: 'indicator', limit: 10 })) as unknown as {
      objects: { pattern: string; confidence: number }[];
    };
    assert.ok(ind.objects.some((o) => o.pattern === "[ipv4-addr:value = '203.0.113.1']"));
    assert.ok(ind.objects.every((o) => o.confidence === 75));
    assert.equal((await h.run(NOW + 3 * 86_400_000)).created, 0);
    assert.deepEqual(JSON.parse(must(sim.requests[1], 'sim.requests[1]').body), { query: 'get_iocs', days: 4 });
  } finally {
    await close();
  }
});

test('MalwareBazaar: get_recent selector 100 first, then time; no_results is an empty run', async () => {
  const { sim, h, close } = await setup('abusech_malwarebazaar', '/bazaar/api/v1/', { overlap_secs: 600 });
  try {
    const r0 = await h.run(NOW);
    assert.equal(r0.received, 0);
    assert.equal(await h.cursor(), undefined, 'no records, no cursor');
    sim.samples.push(makeSampleRecord(1, NOW - 5 * MIN), makeSampleRecord(2, NOW - 7 * MIN));
    const r1 = await h.run(NOW);
    assert.equal(r1.created, 2 + 1 + 2);
    assert.equal(new URLSearchParams(must(sim.requests[1], 'sim.requests[1]').body).get('selector'), '100');
    sim.samples.push(makeSampleRecord(3, NOW + MIN));
    const r2 = await h.run(NOW + 2 * MIN);
    assert.equal(new URLSearchParams(must(sim.requests[2], 'sim.requests[2]').body).get('selector'), 'time');
    assert.equal(r2.created, 2, 'the new sample and its relationship');
  } finally {
    await close();
  }
});

test('threatfoxDays and bazaarSelector cover the cursor window', () => {
  assert.equal(threatfoxDays(undefined, NOW, 0, 3), 3);
  assert.equal(threatfoxDays(NOW - 3_600_000, NOW, 3_600_000, 1), 1);
  assert.equal(threatfoxDays(NOW - 86_400_000, NOW, 60_000, 1), 2);
  assert.equal(threatfoxDays(NOW - 30 * 86_400_000, NOW, 0, 1), 7);
  assert.equal(bazaarSelector(undefined, NOW, 0), '100');
  assert.equal(bazaarSelector(NOW - 30 * MIN, NOW, 30 * MIN), 'time');
  assert.equal(bazaarSelector(NOW - 30 * MIN, NOW, 31 * MIN), '100');
});

test('a record dated in the future moves the cursor at most to now + skew (F26)', async () => {
  const { sim, h, close } = await setup('abusech_urlhaus', '/urlhaus/v1/');
  try {
    sim.urls.push(makeUrlRecord(1, NOW + 86_400_000));
    await h.run(NOW);
    assert.equal(await h.cursor(), new Date(NOW + MAX_SKEW_MS).toISOString());
  } finally {
    await close();
  }
});

test('a failed run commits no cursor; the next run fetches everything again', async () => {
  const { sim, h, close } = await setup('abusech_urlhaus', '/urlhaus/v1/');
  try {
    sim.urls.push(makeUrlRecord(1, NOW - MIN));
    sim.faults.push({ status: 503 }, { status: 503 }, { status: 503 });
    await assert.rejects(h.run(NOW), (e: any) => e.code === 'STIXGATE_ERR_HTTP_STATUS' && e.reason === 'status_5xx');
    assert.equal(sim.requests.length, 3);
    assert.equal(await h.cursor(), undefined);
    assert.equal((await h.run(NOW)).created, 1);
  } finally {
    await close();
  }
});

test('probe reaches the API and is rate-limited like runs', async () => {
  const { sim, h, close } = await setup('abusech_threatfox', '/threatfox/api/v1/', {
    rate_limit: { max_per_minute: 300 },
  });
  try {
    sim.iocs.push(makeIocRecord(1, NOW - MIN));
    const ctx = { id: 't', logger: h.comp.logger, http: h.comp.http, signal: new AbortController().signal, now: NOW };
    assert.equal(
      await must(h.comp.source.probe, 'h.comp.source.probe').call(h.comp.source, ctx),
      'ThreatFox API answered with 1 record',
    );
    await must(h.comp.source.probe, 'h.comp.source.probe').call(h.comp.source, ctx);
    await must(h.comp.source.probe, 'h.comp.source.probe').call(h.comp.source, ctx);
    assert.equal(sim.requests.length, 3);
    // 300 per minute: job starts 200 ms apart (the server sees them within connection-setup jitter)
    const span = must(sim.requests[2], 'sim.requests[2]').at - must(sim.requests[0], 'sim.requests[0]').at;
    assert.ok(span >= 360, `3 requests within ${span} ms`);
  } finally {
    await close();
  }
});
