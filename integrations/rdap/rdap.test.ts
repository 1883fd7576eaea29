import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StixgateError } from '../../src/core/errors.js';
import { s, validate } from '../../src/core/schema.js';
import type { Observable } from '../../src/core/stix.js';
import type { EnrichmentResult } from '../../src/enrich/types.js';
import { testContext } from '../enrich-kit/testing.js';
import { RdapSimulator, makeRdapDomain, makeRdapNetwork, type RdapSimulatorOptions } from './simulator.js';
import { rdapEnricher } from './index.js';
import { rdapSchema, type RdapConfig } from './schema.js';
import { must } from '../../test/helpers/must.js';

const NOW = Date.UTC(2026, 2, 2, 12, 0, 0);
const DOMAIN: Observable = { type: 'domain-name', value: 'fresh-login.example' };
const IP: Observable = { type: 'ipv4-addr', value: '198.51.100.7' };

async function withSim(
  fn: (sim: RdapSimulator, clock: { t: number }) => Promise<void>,
  opts: RdapSimulatorOptions = {},
): Promise<void> {
  const clock = { t: NOW };
  const sim = await new RdapSimulator({ now: () => clock.t, ...opts }).start();
  try {
    await fn(sim, clock);
  } finally {
    await sim.close();
  }
}

function config(extra: Record<string, unknown>): RdapConfig {
  const r = validate(s.object(rdapSchema), extra);
  assert.ok(r.ok, JSON.stringify(!r.ok && r.issues));
  return r.value;
}

/** One enricher instance (its bootstrap cache) for several lookups. */
function enricherFor(extra: Record<string, unknown>, maxBytes?: number) {
  const e = rdapEnricher.create(config(extra), { logger: undefined as never, configDir: '.', mappingsDir: '.' });
  const { ctx, http } = testContext('rdap-test', NOW, maxBytes ? { maxBytes } : {});
  return {
    lookup: (o: Observable, now = NOW): Promise<EnrichmentResult | undefined> => e.enrich(o, { ...ctx, now }),
    close: () => http.close(),
  };
}

const DOMAIN_ID = 'domain-name--e6f624e5-87fa-52dc-8043-8fa9f092ac0f';
const IP_ID = 'ipv4-addr--12592121-be4c-5a93-a813-5a5af16e50db';

const GOLDEN_DOMAIN = [
  { type: 'domain-name', spec_version: '2.1', id: DOMAIN_ID, value: 'fresh-login.example' },
  {
    type: 'note',
    spec_version: '2.1',
    id: 'note--cdfa823e-9419-57e6-963d-494eab3a8932',
    created: '2026-02-21T10:00:00.000Z',
    modified: '2026-02-21T10:00:00.000Z',
    abstract: 'RDAP: fresh-login.example registered 2026-02-20 via Example Registrar, Inc.',
    content:
      'Registrar: Example Registrar, Inc. (IANA ID 1234)\nRegistered: 2026-02-20T09:30:00.000Z\nExpires: 2027-02-20T09:30:00.000Z\nLast changed: 2026-02-21T10:00:00.000Z\nStatus: client transfer prohibited\nName servers: ns1.dns-host.example, ns2.dns-host.example\nAbuse contact: abuse@registrar.example, +1.5555550100',
    authors: ['rdap'],
    object_refs: [DOMAIN_ID],
    external_references: [{ source_name: 'rdap', url: 'https://rdap.example.net/domain/fresh-login.example' }],
    x_stixgate_rdap: {
      object_class: 'domain',
      handle: 'FRESH_LOGIN_EXAMPLE-EXAMPLE',
      registrar: 'Example Registrar, Inc.',
      registrar_iana_id: '1234',
      registered: '2026-02-20T09:30:00.000Z',
      expires: '2027-02-20T09:30:00.000Z',
      last_changed: '2026-02-21T10:00:00.000Z',
      status: ['client transfer prohibited'],
      nameservers: ['ns1.dns-host.example', 'ns2.dns-host.example'],
      abuse_email: 'abuse@registrar.example',
      abuse_phone: '+1.5555550100',
    },
  },
];

const GOLDEN_IP = [
  { type: 'ipv4-addr', spec_version: '2.1', id: IP_ID, value: '198.51.100.7' },
  {
    type: 'note',
    spec_version: '2.1',
    id: 'note--429f484e-eac5-502c-b7e5-6d0590940f01',
    created: '2025-11-03T14:20:00.000Z',
    modified: '2025-11-03T14:20:00.000Z',
    abstract: 'RDAP: 198.51.100.7 is in EXAMPLE-HOSTING-NET (Example Hosting Ltd)',
    content:
      'Network: EXAMPLE-HOSTING-NET (NET-198-51-100-0-1)\nRange: 198.51.100.0 - 198.51.100.255 (198.51.100.0/24)\nCountry: NL\nRegistrant: Example Hosting Ltd\nAbuse contact: abuse@hosting.example\nRegistered: 2014-05-12T08:00:00.000Z\nLast changed: 2025-11-03T14:20:00.000Z',
    authors: ['rdap'],
    object_refs: [IP_ID],
    external_references: [{ source_name: 'rdap', url: 'https://rdap.example.net/ip/198.51.100.0/24' }],
    x_stixgate_rdap: {
      object_class: 'ip network',
      handle: 'NET-198-51-100-0-1',
      name: 'EXAMPLE-HOSTING-NET',
      type: 'ASSIGNED PA',
      start_address: '198.51.100.0',
      end_address: '198.51.100.255',
      cidrs: ['198.51.100.0/24'],
      country: 'NL',
      parent_handle: 'NET-PARENT-1',
      registrant: 'Example Hosting Ltd',
      abuse_email: 'abuse@hosting.example',
      registered: '2014-05-12T08:00:00.000Z',
      last_changed: '2025-11-03T14:20:00.000Z',
    },
  },
];

test('simulator: RFC 9083 domain and ip network objects as application/rdap+json, no credentials needed; 404/400 error objects', async () => {
  await withSim(
    async (sim) => {
      sim.domains.set(DOMAIN.value, makeRdapDomain(DOMAIN.value));
      sim.networks.set('198.51.100.0/22', makeRdapNetwork('198.51.100.0/22', { name: 'WIDE' }));
      sim.networks.set('198.51.100.0/24', makeRdapNetwork('198.51.100.0/24', { name: 'NARROW' }));
      const d = await fetch(`${sim.base}/domain/FRESH-LOGIN.example`);
      assert.equal(d.status, 200);
      assert.equal(d.headers.get('content-type'), 'application/rdap+json');
      const doc = (await d.json()) as Record<string, any>;
      assert.equal(doc.objectClassName, 'domain');
      assert.deepEqual(
        doc.events.map((e: { eventAction: string }) => e.eventAction),
        ['registration', 'expiration', 'last update of RDAP database'],
      );
      assert.deepEqual(doc.entities[0].roles, ['registrar']);
      assert.equal(doc.entities[0].vcardArray[0], 'vcard');
      const ip = (await (await fetch(`${sim.base}/ip/198.51.100.7`)).json()) as Record<string, any>;
      assert.equal(ip.name, 'NARROW', 'longest prefix');
      assert.equal(ip.startAddress, '198.51.100.0');
      assert.equal(ip.endAddress, '198.51.100.255');
      assert.equal(((await (await fetch(`${sim.base}/ip/198.51.102.1`)).json()) as Record<string, any>).name, 'WIDE');
      const missing = await fetch(`${sim.base}/domain/unknown.example`);
      assert.equal(missing.status, 404);
      assert.equal(missing.headers.get('content-type'), 'application/rdap+json');
      assert.deepEqual(await missing.json(), {
        rdapConformance: ['rdap_level_0'],
        errorCode: 404,
        title: 'Not Found',
        description: ['Not Found.'],
      });
      assert.equal((await fetch(`${sim.base}/ip/not-an-ip`)).status, 400);
      const boot = (await (await fetch(`${sim.base}/bootstrap/ipv4.json`)).json()) as { services: unknown };
      assert.deepEqual(boot.services, [[['198.51.100.0/22', '198.51.100.0/24'], [`${sim.base}/`]]]);
    },
    { quota: { perMinute: 100 } },
  );
});

test('simulator: 10 per minute by default → 429 with Retry-After and the RDAP error object; bootstrap files are not counted', async () => {
  await withSim(async (sim, clock) => {
    clock.t = NOW + 50_000;
    for (let i = 0; i < 10; i++) assert.equal((await fetch(`${sim.base}/domain/x${i}.example`)).status, 404);
    assert.equal((await fetch(`${sim.base}/bootstrap/dns.json`)).status, 200);
    const r = await fetch(`${sim.base}/domain/x.example`);
    assert.equal(r.status, 429);
    assert.equal(r.headers.get('retry-after'), '10');
    assert.equal(((await r.json()) as { errorCode: number }).errorCode, 429);
    assert.deepEqual(sim.quota.counts(), { refused: 1, perMinute: 10 });
  });
});

test('enricher: domain and IP through the IANA-style bootstrap → notes (golden); bootstrap fetched once per file; same ids every time', async () => {
  await withSim(
    async (sim) => {
      sim.domains.set(
        DOMAIN.value,
        makeRdapDomain(DOMAIN.value, {
          registrar: 'Example Registrar, Inc.',
          ianaId: '1234',
          lastChanged: '2026-02-21T10:00:00Z',
        }),
      );
      sim.networks.set('198.51.100.0/24', makeRdapNetwork('198.51.100.0/24'));
      const e = enricherFor({ bootstrap_url: `${sim.base}/bootstrap/` });
      try {
        const d = await e.lookup(DOMAIN);
        assert.deepEqual(d, { objects: GOLDEN_DOMAIN });
        assert.deepEqual(await e.lookup(IP), { objects: GOLDEN_IP });
        assert.deepEqual(await e.lookup(DOMAIN, NOW + 3_600_000), d, 'timestamps come from the events, not the clock');
        assert.deepEqual(await e.lookup(IP), { objects: GOLDEN_IP });
        assert.deepEqual(
          sim.requests.map((r) => r.path),
          [
            '/bootstrap/dns.json',
            '/domain/fresh-login.example',
            '/bootstrap/ipv4.json',
            '/ip/198.51.100.7',
            '/domain/fresh-login.example',
            '/ip/198.51.100.7',
          ],
        );
        // after the TTL (24 h) the file is fetched again; a TLD nobody serves is not queried
        assert.equal(await e.lookup({ type: 'domain-name', value: 'x.unserved' }, NOW + 25 * 3_600_000), undefined);
        assert.deepEqual(
          sim.requests.slice(6).map((r) => r.path),
          ['/bootstrap/dns.json'],
        );
      } finally {
        await e.close();
      }
    },
    { quota: { perMinute: 100 } },
  );
});

test('enricher: fixed url; no events → the clock; 404 → undefined; 429 → StixgateError with retryAfterMs', async () => {
  await withSim(
    async (sim) => {
      const bare = makeRdapDomain(DOMAIN.value);
      bare.events = [];
      sim.domains.set(DOMAIN.value, bare);
      const e = enricherFor({ url: sim.base });
      try {
        const d = await e.lookup(DOMAIN);
        assert.equal(must(must(d, 'd').objects[1], 'd.objects[1]').modified, new Date(NOW).toISOString());
        assert.equal(
          must(must(d, 'd').objects[1], 'd.objects[1]').abstract,
          'RDAP: fresh-login.example via Example Registrar, Inc.',
        );
        assert.equal(await e.lookup({ type: 'domain-name', value: 'unknown.example' }), undefined);
        assert.equal(await e.lookup(IP), undefined);
        sim.inject({ status: 429, retryAfter: 120 });
        await assert.rejects(e.lookup(DOMAIN), (err: unknown) => {
          assert.ok(err instanceof StixgateError);
          assert.equal(err.retryAfterMs, 120_000);
          assert.equal(err.reason, 'status_429');
          assert.match(
            err.message,
            /^rdap-test: rdap GET http:\/\/127\.0\.0\.1:\d+\/domain\/fresh-login\.example: status 429/,
          );
          return true;
        });
        sim.inject({ status: 429 });
        await assert.rejects(e.lookup(DOMAIN), (err: StixgateError) => err.retryAfterMs === 60_000);
        assert.deepEqual(
          sim.requests.map((r) => r.path.split('/')[1]),
          ['domain', 'domain', 'ip', 'domain', 'domain'],
          'no bootstrap with a fixed url',
        );
      } finally {
        await e.close();
      }
    },
    { quota: { perMinute: 100 } },
  );
});

test('enricher: malformed JSON, wrong content type, wrong object class, bad bootstrap and oversize fail naming service, reason and location', async () => {
  await withSim(
    async (sim) => {
      sim.domains.set(DOMAIN.value, makeRdapDomain(DOMAIN.value));
      const e = enricherFor({ url: sim.base });
      try {
        sim.inject({ body: '{"objectClassName": "domain",', contentType: 'application/rdap+json' });
        await assert.rejects(
          e.lookup(DOMAIN),
          (err: StixgateError) =>
            err.code === 'STIXGATE_ERR_INPUT_PARSE' &&
            /^rdap-test: rdap GET .*\/domain\/fresh-login\.example: answer is not valid JSON: .* \(json\) \(source rdap-test\)$/.test(
              err.message,
            ),
        );
        sim.inject({ body: '<html>rate limited</html>', contentType: 'text/html' });
        await assert.rejects(
          e.lookup(DOMAIN),
          (err: StixgateError) =>
            err.code === 'STIXGATE_ERR_HTTP_CONTENT_TYPE' &&
            /expected application\/rdap\+json or application\/json, got text\/html/.test(err.message),
        );
        sim.inject({ body: JSON.stringify({ objectClassName: 'entity' }), contentType: 'application/rdap+json' });
        await assert.rejects(e.lookup(DOMAIN), (err: StixgateError) => {
          assert.equal(err.code, 'STIXGATE_ERR_SINK_PROTOCOL');
          assert.match(
            err.message,
            /objectClassName is "entity", expected "domain" \(protocol\) \(source rdap-test, at \$\.objectClassName\)$/,
          );
          return true;
        });
        sim.inject({
          body: JSON.stringify({ objectClassName: 'ip network', startAddress: '198.51.100.0' }),
          contentType: 'application/rdap+json',
        });
        await assert.rejects(
          e.lookup(IP),
          (err: StixgateError) => err.code === 'STIXGATE_ERR_SINK_PROTOCOL' && /at \$\.endAddress\)$/.test(err.message),
        );
      } finally {
        await e.close();
      }
      const b = enricherFor({ bootstrap_url: `${sim.base}/bootstrap/` });
      try {
        sim.inject({ body: JSON.stringify({ version: '1.0', services: [['com'], 'x'] }) });
        await assert.rejects(
          b.lookup(DOMAIN),
          (err: StixgateError) =>
            err.code === 'STIXGATE_ERR_SINK_PROTOCOL' &&
            /^rdap-test: rdap bootstrap GET .*\/bootstrap\/dns\.json: a service is not \[\[entries\], \[URLs\]\] \(protocol\) \(source rdap-test, at \$\.services\[0\]\)$/.test(
              err.message,
            ),
        );
      } finally {
        await b.close();
      }
      const small = enricherFor({ url: sim.base }, 1024);
      try {
        await assert.rejects(
          small.lookup(DOMAIN),
          (err: StixgateError) =>
            err.code === 'STIXGATE_ERR_INPUT_TOO_LARGE' && /^rdap-test: GET .*\(too_large\)$/.test(err.message),
        );
      } finally {
        await small.close();
      }
    },
    { quota: { perMinute: 100 } },
  );
});
