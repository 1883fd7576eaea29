import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { indicatorIdForPattern } from '../../src/core/ids.js';
import type { StixObject } from '../../src/core/stix.js';
import { runEnricher } from '../../src/enrich/runner.js';
import { LOOKUP_PROPERTY, lookupNoteId } from '../../src/enrich/records.js';
import { loopbackHttp } from '../../test/helpers/enrich-loopback.js';
import type { Store } from '../../src/store/contract.js';
import { assertValidStix, VALIDATOR_SKIP } from '../../test/helpers/validator.js';
import { patternIndicator, withEnricher, type EnricherSetup } from '../../test/helpers/enrich-kit.js';
import { virustotalEnricher } from './index.js';
import { maliciousness } from './map.js';
import { reportPath } from './enricher.js';
import { VirusTotalSimulator } from './simulator.js';
import { urlId } from './sim-data.js';
import { must } from '../../test/helpers/must.js';

const T = Date.parse('2026-03-01T10:00:00.000Z');
const MD5 = '44d88612fea8a8f36de82e1278abb02f';
const SHA1 = '3395856ce81f2b7382dee72602f798b642f14140';
const SHA256 = '275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f';

const indicator = (pattern: string): StixObject => patternIndicator(pattern, T);

/**
 * Reports in the simulator for one value of each kind: 198.51.100.7 (malicious, reputation -20,
 * with `ipFacts`), evil.example, http://evil.example/payload and the EICAR file.
 */
function addReports(
  sim: VirusTotalSimulator,
  ipFacts: { country?: string; asn?: number; asOwner?: string } = {},
): void {
  sim.data.addIp({
    ip: '198.51.100.7',
    stats: { malicious: 9, suspicious: 0, harmless: 60, undetected: 21 },
    reputation: -20,
    ...ipFacts,
  });
  sim.data.addDomain({ domain: 'evil.example', stats: { malicious: 2, suspicious: 2, harmless: 70, undetected: 16 } });
  sim.data.addUrl({
    url: 'http://evil.example/payload',
    stats: { malicious: 5, suspicious: 0, harmless: 50, undetected: 35 },
  });
  sim.data.addFile({
    md5: MD5,
    sha1: SHA1,
    sha256: SHA256,
    stats: { malicious: 60, suspicious: 0, harmless: 0, undetected: 10 },
    threatLabel: 'trojan.eicar',
  });
}

function withSetup(
  fn: (s: EnricherSetup<VirusTotalSimulator>) => Promise<void>,
  simOpts: ConstructorParameters<typeof VirusTotalSimulator>[0] = {},
  apiKey = 'test-key',
) {
  return withEnricher(
    {
      sim: new VirusTotalSimulator({ windowMs: 300, ...simOpts }),
      definition: virustotalEnricher,
      id: 'vt',
      service: 'virustotal',
      config: { api_key: apiKey },
      run: () => ({
        quota: { per_minute: 4, per_day: 500 },
        windowMs: 300,
        inflightMs: 1000,
        cacheTtlMs: 86_400_000,
        maxPerRun: 1000,
      }),
    },
    fn,
  );
}

async function ingest(store: Store, patterns: string[]) {
  await store.upsert(
    patterns.map((p) => ({ object: indicator(p), source: 'feed', confidence: 30, tlp: 'green' as const })),
    { now: T },
  );
}

describe('virustotal', () => {
  it('maliciousness: share of engines flagging, suspicious half, full at the configured share', () => {
    assert.equal(maliciousness({ malicious: 0, suspicious: 0, harmless: 0, undetected: 0 }, 0.1), undefined);
    assert.equal(
      maliciousness({ malicious: 0, suspicious: 0, harmless: 0, undetected: 70 }, 0.1),
      undefined,
      'only undetected: no opinion',
    );
    assert.equal(maliciousness({ malicious: 0, suspicious: 0, harmless: 60, undetected: 30 }, 0.1), 0);
    assert.equal(maliciousness({ malicious: 1, suspicious: 0, harmless: 60, undetected: 29 }, 0.1), 11);
    assert.equal(maliciousness({ malicious: 4, suspicious: 2, harmless: 60, undetected: 24 }, 0.1), 56);
    assert.equal(maliciousness({ malicious: 30, suspicious: 0, harmless: 30, undetected: 30 }, 0.1), 100);
    assert.equal(maliciousness({ malicious: 30, suspicious: 0, harmless: 30, undetected: 30 }, 1), 33);
  });

  it('report paths: IPs, domains, URL ids as base64url without padding, MD5/SHA-1/SHA-256 only', () => {
    assert.equal(
      reportPath({ type: 'url', value: 'http://a.example/x?y=1' }),
      `/api/v3/urls/${urlId('http://a.example/x?y=1')}`,
    );
    assert.doesNotMatch(
      must(
        reportPath({ type: 'url', value: 'http://a.example/' }),
        "reportPath({ type: 'url', value: 'http://a.example/' })",
      ),
      /=/,
    );
    assert.equal(reportPath({ type: 'file', value: SHA256, hash: 'SHA-256' }), `/api/v3/files/${SHA256}`);
    assert.equal(reportPath({ type: 'file', value: 'ab'.repeat(64), hash: 'SHA-512' }), undefined);
    assert.equal(reportPath({ type: 'ipv6-addr', value: '2001:db8::1' }), '/api/v3/ip_addresses/2001%3Adb8%3A%3A1');
  });

  it('end to end: reports for every kind of value become notes and signals; unknown values a "no report" note', () =>
    withSetup(async ({ sim, t, opts }) => {
      addReports(sim, { country: 'NL', asn: 64501, asOwner: 'Bad AS' });
      const patterns = [
        "[ipv4-addr:value = '198.51.100.7']",
        "[domain-name:value = 'evil.example']",
        "[url:value = 'http://evil.example/payload']",
        `[file:hashes.MD5 = '${MD5}']`,
        "[ipv4-addr:value = '203.0.113.9']",
      ];
      await ingest(t.store, patterns);
      const s = await runEnricher(opts());
      assert.equal(s.stopped, undefined);
      assert.equal(s.found, 4);
      assert.equal(s.notFound, 1);
      assert.deepEqual(
        sim.requests.map((r) => r.status),
        [200, 200, 200, 200, 404],
      );
      assert.equal(must(sim.requests[4], 'sim.requests[4]').code, 'NotFoundError');
      const ip = must(
        await t.store.get(lookupNoteId('vt', { type: 'ipv4-addr', value: '198.51.100.7' })),
        "(await t.store.get(lookupNoteId('vt', { type: 'ipv4-addr'...",
      );
      assert.match(String(ip.abstract), /9\/90 engines flag 198\.51\.100\.7 \(maliciousness 100\)/);
      assert.match(String(ip.content), /reputation: -20/);
      assert.match(String(ip.content), /AS64501 Bad AS/);
      assert.deepEqual(ip.external_references, [
        {
          source_name: 'virustotal',
          url: 'https://www.virustotal.com/gui/ip-address/198.51.100.7',
          external_id: '198.51.100.7',
        },
      ]);
      assert.equal((ip[LOOKUP_PROPERTY] as { maliciousness: number }).maliciousness, 100);
      assert.ok((ip.object_refs as string[]).includes(indicatorIdForPattern(must(patterns[0], 'patterns[0]'))));
      const file = must(
        await t.store.get(lookupNoteId('vt', { type: 'file', value: MD5, hash: 'MD5' })),
        "(await t.store.get(lookupNoteId('vt', { type: 'file', val...",
      );
      assert.match(String(file.content), /threat label: trojan\.eicar/);
      const none = must(
        await t.store.get(lookupNoteId('vt', { type: 'ipv4-addr', value: '203.0.113.9' })),
        "(await t.store.get(lookupNoteId('vt', { type: 'ipv4-addr'...",
      );
      assert.match(String(none.content), /virustotal has no report for 203\.0\.113\.9/);
      const signals = await t.store.getMany(patterns.map((p) => indicatorIdForPattern(p)));
      assert.equal(
        must(
          must(
            must(
              signals.get(indicatorIdForPattern(must(patterns[0], 'patterns[0]'))),
              'signals.get(indicatorIdForPattern(patterns[0]))',
            ).x_stixgate,
            'signals.get(indicatorIdForPattern(patterns[0])).x_stixgate',
          ).sources['enrich:vt'],
          'signals.get(indicatorIdForPattern(patterns[0])).x_stixgat...',
        ).confidence,
        100,
      );
      assert.equal(
        must(
          must(
            must(
              signals.get(indicatorIdForPattern(must(patterns[1], 'patterns[1]'))),
              'signals.get(indicatorIdForPattern(patterns[1]))',
            ).x_stixgate,
            'signals.get(indicatorIdForPattern(patterns[1])).x_stixgate',
          ).sources['enrich:vt'],
          'signals.get(indicatorIdForPattern(patterns[1])).x_stixgat...',
        ).confidence,
        33,
        '(2 + 2/2) of 90 engines at a 10% full share',
      );
      assert.equal(
        must(
          must(
            signals.get(indicatorIdForPattern(must(patterns[4], 'patterns[4]'))),
            'signals.get(indicatorIdForPattern(patterns[4]))',
          ).x_stixgate,
          'signals.get(indicatorIdForPattern(patterns[4])).x_stixgate',
        ).sources['enrich:vt'],
        undefined,
        'no opinion, no signal',
      );
    }));

  it('the public quota (4 per window, N per day) is never exceeded, counted at the simulator', () =>
    withSetup(
      async ({ sim, t, opts }) => {
        await ingest(
          t.store,
          Array.from({ length: 40 }, (_, i) => `[ipv4-addr:value = '192.0.2.${i + 1}']`),
        );
        const s = await runEnricher(opts({ quota: { per_minute: 4, per_day: 18 }, concurrency: 3 }));
        assert.equal(s.stopped, 'quota');
        assert.equal(sim.quotaRefusals, 0);
        assert.equal(sim.counted.length, 18);
        assert.ok(sim.maxInWindow() <= 4, `saw ${sim.maxInWindow()} in a window`);
      },
      { perDay: 18 },
    ));

  it('a 429 QuotaExceededError (no Retry-After) stops the run; the next run waits a window', () =>
    withSetup(async ({ sim, t, opts }) => {
      await ingest(t.store, ["[ipv4-addr:value = '192.0.2.200']", "[ipv4-addr:value = '192.0.2.201']"]);
      sim.inject({ status: 429, code: 'QuotaExceededError', message: 'Quota exceeded' });
      // the runs' clock moves only when the test moves it
      let now = Date.now();
      const a = await runEnricher(opts({ now: () => now }));
      assert.equal(a.stopped, 'quota');
      assert.equal(a.retryAfterMs, 1000, 'a window, at least one second');
      assert.match(must(a.error, 'a.error').message, /QuotaExceededError/);
      now += 999;
      const b = await runEnricher(opts({ now: () => now }));
      assert.equal(b.stopped, 'quota');
      assert.equal(sim.requests.length, 1, 'no request before the wait is over');
      now += 1;
      const c = await runEnricher(opts({ now: () => now }));
      assert.equal(c.stopped, undefined);
      assert.equal(sim.requests.length, 3);
    }));

  it('wrong credentials stop the run with reason auth and keep the cursor; a 503 stops it and the next run resumes', () =>
    withSetup(
      async ({ sim, t, opts }) => {
        await ingest(t.store, ["[ipv4-addr:value = '192.0.2.50']"]);
        const a = await runEnricher(opts());
        assert.equal(a.stopped, 'error');
        assert.equal(a.error?.reason, 'auth');
        assert.equal(a.cursor, 0);
        assert.equal(must(sim.requests[0], 'sim.requests[0]').code, 'WrongCredentialsError');
      },
      {},
      'wrong-key',
    ));

  it('a 503 TransientError stops the run; the next one resumes from the cursor', () =>
    withSetup(async ({ sim, t, opts }) => {
      await ingest(t.store, ["[ipv4-addr:value = '192.0.2.60']"]);
      sim.inject({ status: 503, code: 'TransientError' });
      const a = await runEnricher(opts());
      assert.equal(a.stopped, 'error');
      assert.equal(a.error?.reason, 'status_5xx');
      assert.equal(a.cursor, 0);
      const b = await runEnricher(opts());
      assert.equal(b.stopped, undefined);
      assert.equal(b.notFound, 1);
    }));

  it('a malformed 200 answer fails that value only', () =>
    withSetup(async ({ sim, t, opts }) => {
      await ingest(t.store, ["[ipv4-addr:value = '192.0.2.70']", "[ipv4-addr:value = '192.0.2.71']"]);
      sim.inject({ status: 200, body: '{"data":"nope"}' });
      const a = await runEnricher(opts());
      assert.equal(a.valueErrors, 1);
      assert.equal(a.notFound, 1);
      assert.equal(a.stopped, undefined);
    }));

  it('the inspection endpoint reports the quota', () =>
    withSetup(async ({ base, sim }) => {
      const http = loopbackHttp('vt-sim');
      try {
        await http
          .request({ url: `${base}/api/v3/domains/x.example`, headers: { 'x-apikey': 'test-key' }, okStatuses: [404] })
          .then((r) => r.dump());
        const q = (await (await http.request({ url: `${base}/__sim/quota` })).json()) as Record<string, number>;
        assert.deepEqual(q, { per_minute: 4, per_day: 500, used_today: 1, max_in_window: 1, refused: 0 });
        assert.equal(must(sim.requests[0], 'sim.requests[0]').code, 'NotFoundError');
      } finally {
        await http.close();
      }
    }));

  it(
    'what the runner stores (lookup notes, signalled indicators) passes stix2-validator',
    { skip: VALIDATOR_SKIP, timeout: 120_000 },
    (tc) =>
      withSetup(async ({ sim, t, opts }) => {
        addReports(sim);
        await ingest(t.store, [
          "[ipv4-addr:value = '198.51.100.7']",
          "[domain-name:value = 'evil.example']",
          "[url:value = 'http://evil.example/payload']",
          `[file:hashes.MD5 = '${MD5}']`,
          "[ipv4-addr:value = '203.0.113.9']",
        ]);
        await runEnricher(opts());
        const { objects } = await t.store.query({ limit: 1000 });
        assert.ok(objects.filter((o) => o.type === 'note').length >= 3);
        assertValidStix([['virustotal', objects]], (m) => tc.diagnostic(m));
      }),
  );
});
