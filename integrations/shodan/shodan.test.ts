import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StixgateError } from '../../src/core/errors.js';
import { validate } from '../../src/core/schema.js';
import { s } from '../../src/core/schema.js';
import { testContext } from '../enrich-kit/testing.js';
import { lookupNoteId } from '../../src/enrich/records.js';
import { ShodanSimulator, makeShodanHost } from './simulator.js';
import { shodanEnricher } from './index.js';
import { shodanSchema, type ShodanConfig } from './schema.js';
import { must } from '../../test/helpers/must.js';

const KEY = 'sh0dan-test-key-0123456789abcdef';
const NOW = Date.UTC(2026, 2, 2, 12, 0, 0);
const IP = { type: 'ipv4-addr' as const, value: '198.51.100.7' };

async function withSim(fn: (sim: ShodanSimulator, clock: { t: number }) => Promise<void>): Promise<void> {
  const clock = { t: NOW };
  const sim = await new ShodanSimulator({ apiKey: KEY, now: () => clock.t }).start();
  try {
    await fn(sim, clock);
  } finally {
    await sim.close();
  }
}

function config(sim: ShodanSimulator, extra: Partial<ShodanConfig> = {}): ShodanConfig {
  const r = validate(s.object(shodanSchema), { url: sim.base, api_key: KEY, ...extra });
  assert.ok(r.ok, JSON.stringify(!r.ok && r.issues));
  return r.value;
}

test('simulator: key required (401 JSON error), unknown IP 404 with the documented message, key redacted in the log', async () => {
  await withSim(async (sim, clock) => {
    sim.hosts.set(IP.value, makeShodanHost(IP.value));
    const none = await fetch(`${sim.base}/shodan/host/${IP.value}`);
    assert.equal(none.status, 401);
    assert.deepEqual(await none.json(), { error: 'Please provide a valid API key' });
    assert.equal((await fetch(`${sim.base}/shodan/host/${IP.value}?key=wrong`)).status, 401);
    const ok = await fetch(`${sim.base}/shodan/host/${IP.value}?key=${KEY}`);
    assert.equal(ok.status, 200);
    assert.equal(ok.headers.get('content-type'), 'application/json; charset=utf-8');
    const doc = (await ok.json()) as { ports: number[]; data: unknown[] };
    assert.deepEqual(doc.ports, [22, 80, 443]);
    assert.equal(doc.data.length, 3);
    clock.t += 1000;
    const mini = (await (await fetch(`${sim.base}/shodan/host/${IP.value}?key=${KEY}&minify=true`)).json()) as Record<
      string,
      unknown
    >;
    assert.equal(mini.data, undefined);
    clock.t += 1000;
    const missing = await fetch(`${sim.base}/shodan/host/192.0.2.1?key=${KEY}`);
    assert.equal(missing.status, 404);
    assert.deepEqual(await missing.json(), { error: 'No information available for that IP.' });
    const log = (await (await fetch(`${sim.base}/__sim/requests`)).json()) as { path: string; status: number }[];
    assert.deepEqual(
      log.map((r) => r.status),
      [401, 401, 200, 200, 404],
    );
    assert.equal(must(log[2], 'log[2]').path, `/shodan/host/${IP.value}?key=***`);
    assert.ok(!JSON.stringify(log).includes(KEY));
  });
});

test('simulator: 1 request/second quota answers 429 with Retry-After and counts', async () => {
  await withSim(async (sim, clock) => {
    sim.hosts.set(IP.value, makeShodanHost(IP.value));
    const url = `${sim.base}/shodan/host/${IP.value}?key=${KEY}`;
    clock.t = NOW + 200;
    assert.equal((await fetch(url)).status, 200);
    const limited = await fetch(url);
    assert.equal(limited.status, 429);
    assert.equal(limited.headers.get('retry-after'), '1');
    assert.match(((await limited.json()) as { error: string }).error, /^Rate limit reached/);
    assert.deepEqual(sim.quota.counts(), { refused: 1, perSecond: 1 });
    clock.t = NOW + 1000;
    assert.equal((await fetch(url)).status, 200);
    const q = (await (await fetch(`${sim.base}/__sim/quota`)).json()) as {
      limits: unknown;
      used: Record<string, number>;
    };
    assert.deepEqual(q, { limits: { perSecond: 1 }, used: { refused: 1, perSecond: 1 } });
  });
});

test('simulator: faults apply `times` requests, then normal service resumes; faults can be posted', async () => {
  await withSim(async (sim, clock) => {
    sim.hosts.set(IP.value, makeShodanHost(IP.value));
    const url = `${sim.base}/shodan/host/${IP.value}?key=${KEY}`;
    sim.inject({ status: 503, times: 2 });
    assert.equal((await fetch(url)).status, 503);
    assert.equal((await fetch(url)).status, 503);
    assert.equal((await fetch(url)).status, 200);
    const posted = await fetch(`${sim.base}/__sim/faults`, {
      method: 'POST',
      body: JSON.stringify({ status: 429, retryAfter: 30 }),
    });
    assert.equal(posted.status, 200);
    clock.t += 5000;
    const r = await fetch(url);
    assert.equal(r.status, 429);
    assert.equal(r.headers.get('retry-after'), '30');
  });
});

const IP_ID = 'ipv4-addr--12592121-be4c-5a93-a813-5a5af16e50db';
const MAIL_ID = 'domain-name--df95c619-dfb7-57d2-b839-3e3e16c8265d';
const WWW_ID = 'domain-name--6d0535cc-be4a-5b19-8eb8-af15195817e6';
const T = '2026-02-27T10:00:00.500Z';

const GOLDEN = [
  { type: 'ipv4-addr', spec_version: '2.1', id: IP_ID, value: '198.51.100.7' },
  {
    type: 'note',
    spec_version: '2.1',
    id: 'note--041372e2-5a5c-5fee-95de-c6396eb606ce',
    created: T,
    modified: T,
    abstract: 'Shodan: 198.51.100.7 has 3 open ports',
    content:
      'Open ports: 22/tcp OpenSSH 8.9p1, 443/tcp nginx, 8080/tcp\nHost names: mail.example.org, www.example.org\nOrganisation: Example Hosting Ltd\nISP: Example Hosting Ltd\nASN: AS64500\nTags: cloud\nLast update: 2026-02-27T10:00:00.500Z',
    authors: ['shodan'],
    object_refs: [IP_ID],
    external_references: [{ source_name: 'shodan', url: 'https://www.shodan.io/host/198.51.100.7' }],
    x_stixgate_shodan: {
      ports: [22, 443, 8080],
      services: [
        { port: 22, transport: 'tcp', product: 'OpenSSH', version: '8.9p1' },
        { port: 443, transport: 'tcp', product: 'nginx' },
        { port: 8080, transport: 'tcp' },
      ],
      hostnames: ['mail.example.org', 'www.example.org'],
      domains: ['example.org'],
      org: 'Example Hosting Ltd',
      isp: 'Example Hosting Ltd',
      asn: 'AS64500',
      country_code: 'NL',
      tags: ['cloud'],
      vulns: [],
      last_update: T,
    },
  },
  { type: 'domain-name', spec_version: '2.1', id: MAIL_ID, value: 'mail.example.org' },
  {
    type: 'relationship',
    spec_version: '2.1',
    id: 'relationship--2b2fb0e4-9743-5eec-bc9f-042a5188ccce',
    created: T,
    modified: T,
    relationship_type: 'resolves-to',
    source_ref: MAIL_ID,
    target_ref: IP_ID,
    description: 'Shodan lists mail.example.org as a host name of 198.51.100.7',
  },
  { type: 'domain-name', spec_version: '2.1', id: WWW_ID, value: 'www.example.org' },
  {
    type: 'relationship',
    spec_version: '2.1',
    id: 'relationship--0beda9db-ea6c-5433-813a-263ab974d8d3',
    created: T,
    modified: T,
    relationship_type: 'resolves-to',
    source_ref: WWW_ID,
    target_ref: IP_ID,
    description: 'Shodan lists www.example.org as a host name of 198.51.100.7',
  },
];

const CTX = { logger: undefined as never, configDir: '.', mappingsDir: '.' };

async function withEnricher(
  extra: Partial<ShodanConfig>,
  fn: (
    sim: ShodanSimulator,
    enrich: (o: typeof IP, now?: number) => Promise<unknown>,
    clock: { t: number },
  ) => Promise<void>,
  maxBytes?: number,
): Promise<void> {
  await withSim(async (sim, clock) => {
    const enricher = shodanEnricher.create(config(sim, extra), CTX);
    const { ctx, http } = testContext('shodan-test', NOW, maxBytes ? { maxBytes } : {});
    try {
      await fn(
        sim,
        (o, now = NOW) => {
          clock.t += 1000;
          return enricher.enrich(o, { ...ctx, now });
        },
        clock,
      );
    } finally {
      await http.close();
    }
  });
}

test('enricher: host → note, domain-name SCOs, resolves-to relationships (golden), same ids every time', async () => {
  await withEnricher({ minify: false }, async (sim, enrich) => {
    sim.hosts.set(
      IP.value,
      makeShodanHost(IP.value, {
        ports: [443, 22, 8080, 443],
        hostnames: ['Mail.Example.org', 'www.example.org.', 'not a name', 'mail.example.org'],
        lastUpdate: '2026-02-27T10:00:00.500000',
        tags: ['cloud'],
      }),
    );
    const r = (await enrich(IP)) as { objects: unknown[]; related: unknown[]; maliciousness?: number };
    assert.deepEqual(r.objects, GOLDEN);
    assert.equal(
      (r.objects[1] as { id: string }).id,
      lookupNoteId('shodan-test', IP),
      "the runner's lookup-note id: the runner fills its note with this one",
    );
    assert.deepEqual(r.related, [
      { type: 'domain-name', value: 'mail.example.org' },
      { type: 'domain-name', value: 'www.example.org' },
    ]);
    assert.equal(r.maliciousness, undefined);
    assert.deepEqual(
      await enrich(IP, NOW + 86_400_000),
      r,
      'the clock does not enter: timestamps come from last_update',
    );
    assert.equal(must(sim.requests.at(-1), 'sim.requests.at(-1)').path, `/shodan/host/${IP.value}?key=***`);
  });
});

test('enricher: minify by default; no last_update → the injected clock; c2 tag → maliciousness 80; IPv6; CIDR not looked up', async () => {
  await withEnricher({}, async (sim, enrich) => {
    const host = makeShodanHost('2001:db8::5', { tags: ['c2', 'cloud'], vulns: ['CVE-2024-6387'] });
    delete host.last_update;
    sim.hosts.set('2001:db8::5', host);
    const r = (await enrich({ type: 'ipv6-addr', value: '2001:db8::5' } as never)) as {
      objects: Record<string, any>[];
      maliciousness?: number;
    };
    assert.equal(
      must(sim.requests.at(-1), 'sim.requests.at(-1)').path,
      '/shodan/host/2001%3Adb8%3A%3A5?key=***&minify=true',
    );
    assert.equal(r.maliciousness, 80);
    const note = must(
      r.objects.find((o) => o.type === 'note'),
      "r.objects.find((o) => o.type === 'note')",
    );
    assert.equal(note.created, new Date(NOW).toISOString());
    assert.deepEqual(note.x_stixgate_shodan.vulns, ['CVE-2024-6387']);
    assert.equal(note.x_stixgate_shodan.services, undefined);
    assert.match(note.content, /^Open ports: 22, 80, 443\n/);
    assert.equal(must(r.objects[0], 'r.objects[0]').type, 'ipv6-addr');
    const before = sim.requests.length;
    assert.equal(await enrich({ type: 'ipv4-addr', value: '198.51.100.0/24', cidr: true } as never), undefined);
    assert.equal(sim.requests.length, before);
  });
});

test('enricher: 404 → undefined; 429 → StixgateError with retryAfterMs (header, or 1 s without one); 401 → SINK_AUTH without the key', async () => {
  await withEnricher({}, async (sim, enrich, clock) => {
    assert.equal(await enrich(IP), undefined);
    sim.inject({ status: 429, retryAfter: 7 });
    await assert.rejects(enrich(IP), (e: unknown) => {
      assert.ok(e instanceof StixgateError);
      assert.equal(e.code, 'STIXGATE_ERR_HTTP_STATUS');
      assert.equal(e.retryAfterMs, 7000);
      assert.equal(e.retryable, true);
      assert.match(
        e.message,
        /^shodan-test: shodan GET http:\/\/127\.0\.0\.1:\d+\/shodan\/host\/198\.51\.100\.7\?…: status 429/,
      );
      return true;
    });
    sim.inject({ status: 429 });
    await assert.rejects(enrich(IP), (e: StixgateError) => e.retryAfterMs === 1000);
    // the simulator's own 1/s limit: two lookups within one second
    sim.hosts.set(IP.value, makeShodanHost(IP.value));
    clock.t = NOW + 100_000;
    const enricher = shodanEnricher.create(config(sim), CTX);
    const { ctx, http } = testContext('shodan-test', NOW);
    try {
      await enricher.enrich(IP, ctx);
      await assert.rejects(
        enricher.enrich(IP, ctx),
        (e: StixgateError) => e.reason === 'status_429' && e.retryAfterMs === 1000,
      );
    } finally {
      await http.close();
    }
  });
  await withSim(async (sim) => {
    const enricher = shodanEnricher.create(config(sim, { api_key: 'wrong-key' }), CTX);
    const { ctx, http } = testContext('shodan-test', NOW);
    try {
      await assert.rejects(enricher.enrich(IP, ctx), (e: StixgateError) => {
        assert.equal(e.code, 'STIXGATE_ERR_SINK_AUTH');
        assert.ok(!e.message.includes('wrong-key'));
        return true;
      });
    } finally {
      await http.close();
    }
  });
});

test('enricher: malformed JSON, wrong content type, oversize and undocumented shapes fail naming service, reason and location', async () => {
  await withEnricher({}, async (sim, enrich) => {
    sim.hosts.set(IP.value, makeShodanHost(IP.value));
    sim.inject({ body: '{"ports": [22, ', status: 200 });
    await assert.rejects(enrich(IP), (e: StixgateError) => {
      assert.equal(e.code, 'STIXGATE_ERR_INPUT_PARSE');
      assert.equal(e.reason, 'json');
      assert.match(
        e.message,
        /^shodan-test: shodan GET http:\/\/127\.0\.0\.1:\d+\/shodan\/host\/198\.51\.100\.7\?…: answer is not valid JSON: .* \(json\) \(source shodan-test\)$/,
      );
      return true;
    });
    sim.inject({ body: '<html>maintenance</html>', contentType: 'text/html' });
    await assert.rejects(
      enrich(IP),
      (e: StixgateError) =>
        e.code === 'STIXGATE_ERR_HTTP_CONTENT_TYPE' &&
        /shodan-test: GET .*expected application\/json, got text\/html/.test(e.message),
    );
    sim.inject({ body: JSON.stringify({ ports: [22, 70000] }) });
    await assert.rejects(enrich(IP), (e: StixgateError) => {
      assert.equal(e.code, 'STIXGATE_ERR_SINK_PROTOCOL');
      assert.match(
        e.message,
        /port 70000 is not an integer 0-65535 \(protocol\) \(source shodan-test, at \$\.ports\[1\]\)$/,
      );
      return true;
    });
    sim.inject({ body: JSON.stringify([1, 2]) });
    await assert.rejects(
      enrich(IP),
      (e: StixgateError) => e.code === 'STIXGATE_ERR_SINK_PROTOCOL' && /not a JSON object/.test(e.message),
    );
  });
  await withEnricher(
    {},
    async (sim, enrich) => {
      sim.inject({ body: JSON.stringify({ ports: [22], pad: 'x'.repeat(5000) }) });
      await assert.rejects(
        enrich(IP),
        (e: StixgateError) =>
          e.code === 'STIXGATE_ERR_INPUT_TOO_LARGE' && e.reason === 'too_large' && /^shodan-test: GET/.test(e.message),
      );
    },
    2048,
  );
});
