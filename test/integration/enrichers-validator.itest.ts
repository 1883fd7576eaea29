import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertValidStix, VALIDATOR_SKIP } from '../helpers/validator.js';
import { testContext } from '../../integrations/enrich-kit/testing.js';
import { ShodanSimulator, makeShodanHost } from '../../integrations/shodan/simulator.js';
import { RdapSimulator, makeRdapDomain, makeRdapNetwork } from '../../integrations/rdap/simulator.js';
import { PassiveDnsSimulator, cofRecord } from '../../integrations/passive_dns/simulator.js';
import { shodanEnricher } from '../../integrations/shodan/index.js';
import { rdapEnricher } from '../../integrations/rdap/index.js';
import { passiveDnsEnricher } from '../../integrations/passive_dns/index.js';
import { s, validate } from '../../src/core/schema.js';
import type { Observable, StixObject } from '../../src/core/stix.js';
import type { EnricherDefinition } from '../../src/enrich/types.js';

/**
 * Every object the Shodan, RDAP and passive-DNS enrichers produce from their loopback simulators
 * (IPv4, IPv6, domains; full and minified Shodan answers; CIRCL-style string numbers) must pass
 * the OASIS stix2-validator.
 */
const NOW = Date.UTC(2026, 2, 2, 12, 0, 0);
const T1 = 1_767_225_600;
const T2 = 1_769_904_000;

async function run(
  def: EnricherDefinition,
  options: Record<string, unknown>,
  observables: Observable[],
): Promise<StixObject[]> {
  const r = validate(s.object(def.schema), options);
  assert.ok(r.ok, JSON.stringify(!r.ok && r.issues));
  const enricher = def.create(r.value, { logger: undefined as never, configDir: '.', mappingsDir: '.' });
  const { ctx, http } = testContext(def.type, NOW);
  const out: StixObject[] = [];
  try {
    for (const o of observables) {
      const res = await enricher.enrich(o, ctx);
      assert.ok(res, `${def.type}: nothing for ${o.value}`);
      out.push(...res.objects);
    }
  } finally {
    await http.close();
  }
  return out;
}

test('Shodan, RDAP and passive-DNS enrichment objects pass stix2-validator', {
  skip: VALIDATOR_SKIP,
  timeout: 300_000,
}, async (t) => {
  const shodan = await new ShodanSimulator({ apiKey: 'k', quota: {} }).start();
  const rdap = await new RdapSimulator({ quota: {} }).start();
  const pdns = await new PassiveDnsSimulator({
    username: 'u',
    password: 'p',
    quota: {},
    numbersAsStrings: true,
  }).start();
  try {
    shodan.hosts.set(
      '198.51.100.7',
      makeShodanHost('198.51.100.7', {
        hostnames: ['mail.example.org', 'www.example.org'],
        tags: ['c2'],
        vulns: ['CVE-2024-6387'],
      }),
    );
    shodan.hosts.set('2001:db8::5', makeShodanHost('2001:db8::5', { ports: [443] }));
    rdap.domains.set(
      'fresh-login.example',
      makeRdapDomain('fresh-login.example', { lastChanged: '2026-02-21T10:00:00Z' }),
    );
    rdap.networks.set('198.51.100.0/24', makeRdapNetwork('198.51.100.0/24'));
    rdap.networks.set('2001:db8::/32', makeRdapNetwork('2001:db8::/32'));
    pdns.records.push(
      cofRecord('evil.example', '198.51.100.7', T1, T2, 12),
      cofRecord('evil.example', '2001:db8::7', T1, T1),
      { rrname: 'evil.example', rrtype: 'CNAME', rdata: 'cdn.example.net', time_first: T1, time_last: T2, count: 3 },
      { rrname: '198.51.100.9', rrtype: 'A', rdata: 'evil.example', time_first: T1, time_last: T2, count: 1 },
    );
    const ip4: Observable = { type: 'ipv4-addr', value: '198.51.100.7' };
    const ip6: Observable = { type: 'ipv6-addr', value: '2001:db8::5' };
    const dom: Observable = { type: 'domain-name', value: 'fresh-login.example' };
    const bundles: [string, StixObject[]][] = [
      [
        'shodan',
        [
          ...(await run(shodanEnricher, { url: shodan.base, api_key: 'k', minify: false }, [ip4, ip6])),
          ...(await run(shodanEnricher, { url: shodan.base, api_key: 'k' }, [ip4])),
        ],
      ],
      ['rdap', await run(rdapEnricher, { bootstrap_url: `${rdap.base}/bootstrap/` }, [dom, ip4, ip6])],
      [
        'passive_dns',
        await run(passiveDnsEnricher, { url: `${pdns.base}/pdns/query/`, username: 'u', password: 'p' }, [
          { type: 'domain-name', value: 'evil.example' },
          ip4,
        ]),
      ],
    ];
    for (const [name, objects] of bundles) assert.ok(objects.length >= 4, `${name}: ${objects.length} objects`);
    assertValidStix(bundles, (m) => t.diagnostic(m));
  } finally {
    await Promise.all([shodan.close(), rdap.close(), pdns.close()]);
  }
});
