import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StixgateError } from '../../src/core/errors.js';
import { s, validate } from '../../src/core/schema.js';
import type { Observable } from '../../src/core/stix.js';
import type { EnrichmentResult } from '../../src/enrich/types.js';
import { testContext } from '../enrich-kit/testing.js';
import { PassiveDnsSimulator, cofRecord, type PassiveDnsSimulatorOptions } from './simulator.js';
import { passiveDnsEnricher } from './index.js';
import { passiveDnsSchema, type PassiveDnsConfig } from './schema.js';
import { must } from '../../test/helpers/must.js';

const USER = 'pdns-user';
const PASS = 'pdns-secret-pass';
const NOW = Date.UTC(2026, 2, 2, 12, 0, 0);
const basic = (u: string, p: string) => ({ authorization: `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}` });
const DOMAIN: Observable = { type: 'domain-name', value: 'evil.example' };
const T1 = 1_767_225_600; // 2026-01-01T00:00:00Z
const T2 = 1_769_904_000; // 2026-02-01T00:00:00Z

async function withSim(
  fn: (sim: PassiveDnsSimulator, clock: { t: number }) => Promise<void>,
  opts: Partial<PassiveDnsSimulatorOptions> = {},
): Promise<void> {
  const clock = { t: NOW };
  const sim = await new PassiveDnsSimulator({ username: USER, password: PASS, now: () => clock.t, ...opts }).start();
  try {
    await fn(sim, clock);
  } finally {
    await sim.close();
  }
}

function config(sim: PassiveDnsSimulator, extra: Partial<PassiveDnsConfig> = {}): PassiveDnsConfig {
  const r = validate(s.object(passiveDnsSchema), {
    url: `${sim.base}/pdns/query/`,
    username: USER,
    password: PASS,
    ...extra,
  });
  assert.ok(r.ok, JSON.stringify(!r.ok && r.issues));
  return r.value;
}

async function lookup(
  sim: PassiveDnsSimulator,
  o: Observable,
  extra: Partial<PassiveDnsConfig> = {},
  maxBytes?: number,
): Promise<EnrichmentResult | undefined> {
  const { ctx, http } = testContext('pdns-test', NOW, maxBytes ? { maxBytes } : {});
  try {
    return await passiveDnsEnricher
      .create(config(sim, extra), { logger: undefined as never, configDir: '.', mappingsDir: '.' })
      .enrich(o, ctx);
  } finally {
    await http.close();
  }
}

test('simulator: Basic auth (401 + WWW-Authenticate), NDJSON COF records by rrname or rdata, empty answer, CIDR refused', async () => {
  await withSim(async (sim) => {
    sim.records.push(
      cofRecord('evil.example', '198.51.100.7', T1, T2, 12),
      cofRecord('other.example', '203.0.113.9', T1, T2),
    );
    const url = `${sim.base}/pdns/query/evil.example`;
    const none = await fetch(url);
    assert.equal(none.status, 401);
    assert.equal(none.headers.get('www-authenticate'), 'Basic realm="pdns"');
    assert.equal((await fetch(url, { headers: basic(USER, 'wrong') })).status, 401);
    const ok = await fetch(url, { headers: basic(USER, PASS) });
    assert.equal(ok.status, 200);
    assert.equal(ok.headers.get('content-type'), 'application/x-ndjson');
    assert.deepEqual(
      (await ok.text())
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l)),
      [{ rrname: 'evil.example', rrtype: 'A', rdata: '198.51.100.7', time_first: T1, time_last: T2, count: 12 }],
    );
    const byIp = await (await fetch(`${sim.base}/pdns/query/203.0.113.9`, { headers: basic(USER, PASS) })).text();
    assert.equal(JSON.parse(byIp).rrname, 'other.example');
    const empty = await fetch(`${sim.base}/pdns/query/nothing.example`, { headers: basic(USER, PASS) });
    assert.equal(empty.status, 200);
    assert.equal(await empty.text(), '');
    assert.equal((await fetch(`${sim.base}/pdns/query/198.51.100.0%2F24`, { headers: basic(USER, PASS) })).status, 400);
    assert.deepEqual(
      sim.requests.map((r) => [r.auth, r.status]),
      [
        ['', 401],
        ['Basic', 401],
        ['Basic', 200],
        ['Basic', 200],
        ['Basic', 200],
        ['Basic', 400],
      ],
    );
  });
});

test('simulator: per-minute quota → 429 with Retry-After to the next minute; counter resets in the next window', async () => {
  await withSim(
    async (sim, clock) => {
      const url = `${sim.base}/pdns/query/evil.example`;
      clock.t = NOW + 45_000;
      for (let i = 0; i < 3; i++) assert.equal((await fetch(url, { headers: basic(USER, PASS) })).status, 200);
      const r = await fetch(url, { headers: basic(USER, PASS) });
      assert.equal(r.status, 429);
      assert.equal(r.headers.get('retry-after'), '15');
      assert.deepEqual(sim.quota.counts(), { refused: 1, perMinute: 3 });
      clock.t = NOW + 60_000;
      assert.equal((await fetch(url, { headers: basic(USER, PASS) })).status, 200);
      assert.deepEqual(sim.quota.counts(), { refused: 1, perMinute: 1 });
    },
    { quota: { perMinute: 3 } },
  );
});

const EVIL = 'domain-name--69228563-c8d2-54ae-aeca-5f4134cb59aa';
const V6 = 'ipv6-addr--9ed76cd5-ab3b-55a5-b6ec-b55c3efb0be2';
const V4 = 'ipv4-addr--12592121-be4c-5a93-a813-5a5af16e50db';
const CDN = 'domain-name--e027c272-2b82-5921-b0b3-8ba661427bab';
const R6 = 'relationship--6215a09a-5110-5c9a-a276-4589c81db65f';
const R4 = 'relationship--fbbc19bb-7085-5196-8600-6c597185a9bd';
const RC = 'relationship--23f746de-ff98-5768-8dba-066a90db3669';
const D1 = '2026-01-01T00:00:00.000Z';
const D0 = '2025-12-31T00:00:00.000Z';
const D2 = '2026-02-01T00:00:00.000Z';
const rel = (id: string, src: string, tgt: string, created: string, modified: string, description: string) => ({
  type: 'relationship',
  spec_version: '2.1',
  id,
  created,
  modified,
  relationship_type: 'resolves-to',
  source_ref: src,
  target_ref: tgt,
  description,
});
const obs = (id: string, first: string, last: string, n: number, refs: string[]) => ({
  type: 'observed-data',
  spec_version: '2.1',
  id,
  created: first,
  modified: last,
  first_observed: first,
  last_observed: last,
  number_observed: n,
  object_refs: refs,
});

const GOLDEN = [
  { type: 'domain-name', spec_version: '2.1', id: EVIL, value: 'evil.example' },
  { type: 'ipv6-addr', spec_version: '2.1', id: V6, value: '2001:db8::7' },
  rel(R6, EVIL, V6, D1, D1, 'Passive DNS: AAAA record evil.example → 2001:db8::7'),
  obs('observed-data--12d2c00d-cf55-53f2-951e-8f8405e0e45e', D1, D1, 1, [EVIL, V6, R6]),
  { type: 'ipv4-addr', spec_version: '2.1', id: V4, value: '198.51.100.7' },
  rel(R4, EVIL, V4, D0, D2, 'Passive DNS: A record evil.example → 198.51.100.7'),
  obs('observed-data--6da25c3a-6d53-5b6c-b8f4-8a9cb7e94067', D0, D2, 15, [EVIL, V4, R4]),
  { type: 'domain-name', spec_version: '2.1', id: CDN, value: 'cdn.example.net' },
  rel(RC, EVIL, CDN, D1, D2, 'Passive DNS: CNAME record evil.example → cdn.example.net'),
  obs('observed-data--1c82bb47-5a71-5bd0-97f7-b587f2155ef6', D1, D2, 999_999_999, [EVIL, CDN, RC]),
];

test('enricher: A, AAAA and CNAME records → SCOs, resolves-to, observed-data (golden); merged duplicates; other types ignored', async () => {
  await withSim(
    async (sim) => {
      sim.records.push(
        cofRecord('evil.example.', '198.51.100.7', T1, T2, 12),
        cofRecord('evil.example', '198.51.100.7', T1 - 86_400, T2 - 86_400, 3), // a second sensor: merged
        cofRecord('evil.example', '2001:DB8::7', T1, T1, 1),
        {
          rrname: 'evil.example',
          rrtype: 'CNAME',
          rdata: 'cdn.example.net.',
          time_first: T1,
          time_last: T2,
          count: 4_000_000_000,
        },
        { rrname: 'evil.example', rrtype: 'NS', rdata: 'ns1.example.net', time_first: T1, time_last: T2, count: 5 },
        { rrname: 'evil.example', rrtype: 'A', rdata: 'not-an-ip', time_first: T1, time_last: T2, count: 5 },
      );
      const r = await lookup(sim, DOMAIN);
      assert.ok(r);
      assert.deepEqual(r.objects, GOLDEN);
      assert.deepEqual(r.related, [
        { type: 'ipv6-addr', value: '2001:db8::7' },
        { type: 'ipv4-addr', value: '198.51.100.7' },
        { type: 'domain-name', value: 'cdn.example.net' },
      ]);
      assert.equal(r.maliciousness, undefined);
      assert.deepEqual(await lookup(sim, DOMAIN), r, 'same answer, same objects and ids');
      assert.equal(must(sim.requests.at(-1), 'sim.requests.at(-1)').path, '/pdns/query/evil.example');
    },
    { quota: { perMinute: 100 } },
  );
});

test('enricher: IP query with CIRCL-style answers (address printed as rrname, numbers as strings, rdata lists) links the IP to its names', async () => {
  await withSim(
    async (sim) => {
      sim.records.push(
        { rrname: '198.51.100.7', rrtype: 'A', rdata: 'evil.example', time_first: T1, time_last: T2, count: 19 },
        {
          rrname: 'www.evil.example',
          rrtype: 'A',
          rdata: ['198.51.100.7', '198.51.100.8'],
          time_first: T1,
          time_last: T2,
          count: 2,
        },
      );
      const r = await lookup(sim, { type: 'ipv4-addr', value: '198.51.100.7' });
      assert.ok(r);
      assert.deepEqual(r.related, [
        { type: 'domain-name', value: 'evil.example' },
        { type: 'domain-name', value: 'www.evil.example' },
        { type: 'ipv4-addr', value: '198.51.100.8' },
      ]);
      const od = r.objects.filter((o) => o.type === 'observed-data');
      assert.deepEqual(
        od.map((o) => o.number_observed),
        [19, 2, 2],
      );
      assert.equal(must(od[0], 'od[0]').first_observed, D1);
      assert.ok(r.objects.some((o) => o.type === 'relationship' && o.source_ref === EVIL && o.target_ref === V4));
    },
    { numbersAsStrings: true },
  );
});

test('enricher: no record, 404 or CIDR → undefined; max_records caps what is read', async () => {
  await withSim(
    async (sim) => {
      assert.equal(await lookup(sim, DOMAIN), undefined, 'empty answer');
      sim.inject({ status: 404 });
      assert.equal(await lookup(sim, DOMAIN), undefined);
      const n = sim.requests.length;
      assert.equal(await lookup(sim, { type: 'ipv4-addr', value: '198.51.100.0/24', cidr: true }), undefined);
      assert.equal(sim.requests.length, n, 'no request for a CIDR');
      for (let i = 0; i < 50; i++) sim.records.push(cofRecord('evil.example', `198.51.100.${i + 1}`, T1, T2));
      const r = await lookup(sim, DOMAIN, { max_records: 10 });
      assert.equal(must(must(r, 'r').related, 'r.related').length, 10);
      assert.equal(must(r, 'r').objects.filter((o) => o.type === 'observed-data').length, 10);
    },
    { quota: { perMinute: 100 } },
  );
});

test('enricher: 429 → StixgateError with retryAfterMs (Retry-After, else 60 s); wrong credentials → SINK_AUTH without the password', async () => {
  await withSim(async (sim) => {
    sim.inject({ status: 429, retryAfter: 42 });
    await assert.rejects(
      lookup(sim, DOMAIN),
      (e: unknown) =>
        e instanceof StixgateError && e.retryAfterMs === 42_000 && e.retryable && e.reason === 'status_429',
    );
    sim.inject({ status: 429 });
    await assert.rejects(lookup(sim, DOMAIN), (e: StixgateError) => e.retryAfterMs === 60_000);
    await assert.rejects(lookup(sim, DOMAIN, { password: 'not-the-password' }), (e: StixgateError) => {
      assert.equal(e.code, 'STIXGATE_ERR_SINK_AUTH');
      assert.match(
        e.message,
        /^pdns-test: passive_dns GET http:\/\/127\.0\.0\.1:\d+\/pdns\/query\/evil\.example: status 401/,
      );
      assert.ok(!e.message.includes('not-the-password'));
      return true;
    });
  });
});

test('enricher: malformed lines, bad records, wrong content type and oversize answers fail naming service, reason and line', async () => {
  await withSim(
    async (sim) => {
      const good = JSON.stringify(cofRecord('evil.example', '198.51.100.7', T1, T2));
      sim.inject({ body: `${good}\n{"rrname": "x", \n`, contentType: 'application/x-ndjson' });
      await assert.rejects(lookup(sim, DOMAIN), (e: StixgateError) => {
        assert.equal(e.code, 'STIXGATE_ERR_INPUT_PARSE');
        assert.match(
          e.message,
          /^pdns-test: passive_dns GET http:\/\/127\.0\.0\.1:\d+\/pdns\/query\/evil\.example: answer is not valid JSON: .* \(json\) \(source pdns-test, line 2\)$/,
        );
        return true;
      });
      sim.inject({
        body: `${good}\n\n${JSON.stringify({ rrname: 'evil.example', rrtype: 'A', rdata: '198.51.100.7', time_last: T2 })}\n`,
        contentType: 'application/x-ndjson',
      });
      await assert.rejects(lookup(sim, DOMAIN), (e: StixgateError) => {
        assert.equal(e.code, 'STIXGATE_ERR_SINK_PROTOCOL');
        assert.match(
          e.message,
          /`time_first` is missing or not epoch seconds \(protocol\) \(source pdns-test, line 3, at \$\.time_first\)$/,
        );
        return true;
      });
      sim.inject({ body: '<html>login</html>', contentType: 'text/html' });
      await assert.rejects(
        lookup(sim, DOMAIN),
        (e: StixgateError) => e.code === 'STIXGATE_ERR_HTTP_CONTENT_TYPE' && /got text\/html/.test(e.message),
      );
      sim.inject({ body: `${good}\n`.repeat(200), contentType: 'application/x-ndjson' });
      await assert.rejects(
        lookup(sim, DOMAIN, {}, 4096),
        (e: StixgateError) =>
          e.code === 'STIXGATE_ERR_INPUT_TOO_LARGE' &&
          /^pdns-test: GET .* body exceeds 4096 bytes \(too_large\)$/.test(e.message),
      );
    },
    { quota: { perMinute: 100 } },
  );
});
