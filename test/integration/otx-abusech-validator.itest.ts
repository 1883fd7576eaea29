import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { corpusPath } from '../helpers/corpus.js';
import { assertValidStix, VALIDATOR_SKIP } from '../helpers/validator.js';
import {
  AbusechSimulator,
  makeIocRecord,
  makePayloadRecord,
  makeSampleRecord,
  makeUrlRecord,
} from '../../integrations/abusech/simulator.js';
import type { SimRecord } from '../../integrations/sim-kit.js';
import { OtxSimulator, makeOtxIndicator, makePulse } from '../../integrations/otx/simulator.js';
import { component, componentPages } from '../helpers/source-harness.js';
import { urlhausSource, threatfoxSource, malwarebazaarSource } from '../../integrations/abusech/index.js';
import { otxSource } from '../../integrations/otx/index.js';
import type { StixObject } from '../../src/core/stix.js';

/**
 * Every object the OTX and abuse.ch API sources emit, from their loopback simulators loaded with
 * the real API records of the Elastic ECS RFC 0008 samples plus generated ones, must pass the
 * OASIS stix2-validator, and every pattern stix2-patterns.
 */
const KEY = '0123456789abcdef0123456789abcdef';
const NOW = Date.UTC(2026, 2, 1, 12, 0, 0);
const DEFS = [urlhausSource, threatfoxSource, malwarebazaarSource, otxSource];

function real(name: string): SimRecord[] {
  const p = corpusPath(`elastic-ecs-rfc0008-samples/${name}.ndjson`);
  return p.skip
    ? []
    : readFileSync(p.path, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
}

async function collect(options: Record<string, unknown>): Promise<StixObject[]> {
  const comp = component(DEFS, { rate_limit: { max_per_minute: 6000 }, valid_days: 30, ...options });
  const out: StixObject[] = [];
  try {
    for await (const page of componentPages(comp, NOW)) {
      for (const it of page.items) out.push(it.object);
    }
  } finally {
    await comp.http.close();
  }
  return out;
}

test('OTX and abuse.ch API objects pass stix2-validator and stix2-patterns', {
  skip: VALIDATOR_SKIP,
  timeout: 300_000,
}, async (t) => {
  // the real records are from 2021: the ThreatFox simulator's `days` window is anchored there
  const ab = await new AbusechSimulator({ authKey: KEY, now: () => Date.UTC(2021, 5, 15, 12) }).start();
  const otx = await new OtxSimulator(KEY).start();
  try {
    ab.urls.push(
      ...real('urlhaus_api_urls'),
      ...Array.from({ length: 20 }, (_, i) => makeUrlRecord(i, Date.UTC(2021, 5, 15) - i * 60_000)),
    );
    ab.payloads.push(
      ...real('urlhaus_api_payloads'),
      ...Array.from({ length: 20 }, (_, i) => makePayloadRecord(i, Date.UTC(2021, 5, 15) - i * 60_000)),
    );
    ab.iocs.push(
      ...real('threatfox_api').map((r) => ({ ...r, first_seen: '2021-06-15 08:22:52 UTC' })),
      ...(['ip:port', 'domain', 'url', 'sha256_hash'] as const).map((k, i) =>
        makeIocRecord(i, Date.UTC(2021, 5, 15, 10), k),
      ),
    );
    ab.samples.push(
      ...real('malwarebazaar_api'),
      ...Array.from({ length: 20 }, (_, i) => makeSampleRecord(i, Date.UTC(2021, 5, 15) - i * 60_000)),
    );
    const otxReal = real('otx_pulse_indicators');
    otx.pulses.push(
      makePulse(1, NOW - 60_000, [
        ...otxReal,
        makeOtxIndicator(5, 'CVE', 'CVE-2021-44228', NOW - 120_000),
        makeOtxIndicator(6, 'URL', 'http://evil.example/gate.php', NOW - 120_000),
        makeOtxIndicator(7, 'CIDR', '198.51.100.0/24', NOW - 120_000),
        makeOtxIndicator(8, 'email', 'phish@example.org', NOW - 120_000),
        makeOtxIndicator(9, 'IPv6', '2001:db8::7', NOW - 120_000),
      ]),
      makePulse(2, NOW - 120_000, [
        makeOtxIndicator(10, 'FileHash-SHA1', 'e7f6bf55ee9477a4208f0253d94deff4453aaa64', NOW - 180_000),
      ]),
    );
    const cases: [string, Record<string, unknown>][] = [
      ['urlhaus-urls', { type: 'abusech_urlhaus', url: `${ab.base}/urlhaus/v1/`, auth_key: KEY }],
      [
        'urlhaus-payloads',
        { type: 'abusech_urlhaus', url: `${ab.base}/urlhaus/v1/`, auth_key: KEY, endpoint: 'payloads' },
      ],
      ['threatfox', { type: 'abusech_threatfox', url: `${ab.base}/threatfox/api/v1/`, auth_key: KEY, initial_days: 7 }],
      ['malwarebazaar', { type: 'abusech_malwarebazaar', url: `${ab.base}/bazaar/api/v1/`, auth_key: KEY }],
      ['otx', { type: 'otx', url: otx.base, api_key: KEY, page_size: 1 }],
    ];
    const bundles: [string, StixObject[]][] = [];
    for (const [name, options] of cases) {
      const objects = await collect(options);
      assert.ok(objects.length > 0, `${name} produced no objects`);
      bundles.push([name, objects]);
    }
    const reports = assertValidStix(bundles, (m) => t.diagnostic(m));
    assert.equal(reports.size, cases.length);
    const total = [...reports.values()].reduce((n, r) => n + r.objects, 0);
    assert.ok(total > 100, `${total} objects`);
  } finally {
    await ab.close();
    await otx.close();
  }
});
