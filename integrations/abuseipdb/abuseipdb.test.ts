import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { indicatorIdForPattern } from '../../src/core/ids.js';
import type { StixObject } from '../../src/core/stix.js';
import { runEnricher, type EnrichRunOptions } from '../../src/enrich/runner.js';
import { lookupNoteId } from '../../src/enrich/records.js';
import { loopbackHttp } from '../../test/helpers/enrich-loopback.js';
import type { Store } from '../../src/store/contract.js';
import { assertValidStix, VALIDATOR_SKIP } from '../../test/helpers/validator.js';
import { patternIndicator, withEnricher, type EnricherSetup } from '../../test/helpers/enrich-kit.js';
import { abuseipdbEnricher } from './index.js';
import { AbuseIpdbSimulator } from './simulator.js';
import { must } from '../../test/helpers/must.js';

const T = Date.parse('2026-03-01T10:00:00.000Z');

const indicator = (pattern: string): StixObject => patternIndicator(pattern, T);

async function ingest(store: Store, ips: string[]) {
  const patterns = ips.map((ip) => (ip.includes(':') ? `[ipv6-addr:value = '${ip}']` : `[ipv4-addr:value = '${ip}']`));
  for (let i = 0; i < patterns.length; i += 500) {
    await store.upsert(
      patterns
        .slice(i, i + 500)
        .map((p) => ({ object: indicator(p), source: 'feed', confidence: 20, tlp: 'green' as const })),
      { now: T },
    );
  }
}

function withSetup(
  fn: (s: EnricherSetup<AbuseIpdbSimulator>) => Promise<void>,
  simOpts: ConstructorParameters<typeof AbuseIpdbSimulator>[0] = {},
  extra: Record<string, unknown> = {},
) {
  const spec = {
    sim: new AbuseIpdbSimulator(simOpts),
    definition: abuseipdbEnricher,
    id: 'ab',
    service: 'abuseipdb',
    config: { api_key: 'test-key', ...extra },
    run: (c: { quota: EnrichRunOptions['quota'] }) => ({
      quota: c.quota,
      cacheTtlMs: 86_400_000,
      maxPerRun: 5000,
      concurrency: 4,
    }),
  };
  return withEnricher(spec, async (s) => {
    assert.deepEqual(s.config.quota, { per_day: 1000 }, 'the free plan is the default quota');
    await fn(s);
  });
}

const publicIp = (i: number): string => `45.${(i >> 8) & 255}.${i & 255}.7`;

describe('abuseipdb', () => {
  it('end to end: maliciousness = abuseConfidenceScore; reported facts in the note; private addresses give no opinion', () =>
    withSetup(async ({ sim, t, opts }) => {
      sim.reported.set('45.1.2.3', {
        abuseConfidenceScore: 87,
        totalReports: 412,
        numDistinctUsers: 61,
        countryCode: 'RU',
        isp: 'Bad Hosting',
        usageType: 'Data Center/Web Hosting/Transit',
        isTor: true,
        lastReportedAt: '2026-02-28T22:01:00+00:00',
      });
      sim.reported.set('2a00:1450:4001::5', { abuseConfidenceScore: 12, totalReports: 2 });
      await ingest(t.store, ['45.1.2.3', '45.9.9.9', '10.1.1.1', '2a00:1450:4001::5']);
      const s = await runEnricher(opts());
      assert.equal(s.stopped, undefined);
      assert.equal(s.found, 4);
      assert.equal(sim.counted.length, 4);
      assert.match(
        must(sim.requests[0], 'sim.requests[0]').path,
        /^\/api\/v2\/check\?ipAddress=45\.1\.2\.3&maxAgeInDays=90$/,
      );
      const note = must(
        await t.store.get(lookupNoteId('ab', { type: 'ipv4-addr', value: '45.1.2.3' })),
        "(await t.store.get(lookupNoteId('ab', { type: 'ipv4-addr'...",
      );
      assert.equal(note.abstract, 'AbuseIPDB: 45.1.2.3 abuse confidence 87% (412 reports)');
      assert.match(String(note.content), /reports in the last 90 days: 412 from 61 users/);
      assert.match(String(note.content), /Tor exit node/);
      const ids = ['45.1.2.3', '45.9.9.9', '10.1.1.1'].map((ip) =>
        indicatorIdForPattern(`[ipv4-addr:value = '${ip}']`),
      );
      const inds = await t.store.getMany(ids);
      assert.equal(
        must(
          must(must(inds.get(must(ids[0], 'ids[0]')), 'inds.get(ids[0])').x_stixgate, 'inds.get(ids[0]).x_stixgate')
            .sources['enrich:ab'],
          "inds.get(ids[0]).x_stixgate.sources['enrich:ab']",
        ).confidence,
        87,
      );
      assert.equal(
        must(must(inds.get(must(ids[1], 'ids[1]')), 'inds.get(ids[1])').x_stixgate, 'inds.get(ids[1]).x_stixgate')
          .sources['enrich:ab'],
        undefined,
        'nobody reported it: no opinion',
      );
      assert.match(
        String(
          must(
            await t.store.get(lookupNoteId('ab', { type: 'ipv4-addr', value: '45.9.9.9' })),
            "(await t.store.get(lookupNoteId('ab', { type: 'ipv4-addr'...",
          ).content,
        ),
        /reports in the last 90 days: 0/,
      );
      assert.equal(
        must(must(inds.get(must(ids[2], 'ids[2]')), 'inds.get(ids[2])').x_stixgate, 'inds.get(ids[2]).x_stixgate')
          .sources['enrich:ab'],
        undefined,
        'a private address: no opinion',
      );
      const v6 = must(
        await t.store.get(indicatorIdForPattern("[ipv6-addr:value = '2a00:1450:4001::5']")),
        '(await t.store.get(indicatorIdForPattern("[ipv6-addr:valu...',
      );
      assert.equal(
        must(must(v6.x_stixgate, 'v6.x_stixgate').sources['enrich:ab'], "v6.x_stixgate.sources['enrich:ab']")
          .confidence,
        12,
      );
    }));

  it('the 1,000 checks/day free quota is never exceeded under load of 1,100 distinct addresses, counted at the simulator', () =>
    withSetup(async ({ sim, t, opts }) => {
      await ingest(
        t.store,
        Array.from({ length: 1100 }, (_, i) => publicIp(i)),
      );
      // the run ends on the daily quota, never on a deadline (a loaded machine may take minutes)
      const s = await runEnricher(opts({ maxRunMs: 86_400_000 }));
      assert.equal(s.stopped, 'quota');
      assert.equal(s.error?.reason, 'quota_day');
      assert.equal(sim.quotaRefusals, 0);
      assert.equal(sim.counted.length, 1000);
      assert.equal(s.lookups, 1000);
      assert.ok(must(s.retryAfterMs, 's.retryAfterMs') > 0 && must(s.retryAfterMs, 's.retryAfterMs') <= 86_400_000);
      // a restart the same day: still nothing
      const again = await runEnricher(opts());
      assert.equal(again.stopped, 'quota');
      assert.equal(sim.requests.length, 1000);
    }));

  it('a 429 with Retry-After and X-RateLimit-Reset (a key shared with another client) is honoured', () =>
    withSetup(
      async ({ sim, t, opts }) => {
        await ingest(t.store, ['45.0.0.1', '45.0.0.2', '45.0.0.3', '45.0.0.4']);
        // one request at a time: with more in flight, a second request may already be on its way when the first 429 comes back
        const s = await runEnricher(opts({ quota: { per_day: 1000 }, concurrency: 1 }));
        assert.equal(s.stopped, 'quota');
        assert.equal(s.error?.reason, 'status_429');
        assert.equal(sim.counted.length, 2);
        assert.equal(sim.quotaRefusals, 1);
        assert.ok(
          Math.abs(
            must(s.retryAfterMs, 's.retryAfterMs') -
              ((Math.floor(Date.now() / 86_400_000) + 1) * 86_400_000 - Date.now()),
          ) < 5000,
          'waits for the reset',
        );
        assert.match(must(s.error, 's.error').message, /Daily rate limit of 2 requests exceeded/);
        const again = await runEnricher(opts());
        assert.equal(again.stopped, 'quota');
        assert.equal(sim.requests.length, 3, 'no request before Retry-After');
      },
      { perDay: 2 },
    ));

  it('a 422 for one value fails that value only; a missing data field is a protocol error for that value', () =>
    withSetup(async ({ sim, t, opts }) => {
      await ingest(t.store, ['45.0.1.1', '45.0.1.2', '45.0.1.3']);
      sim.inject({ status: 422, detail: 'The ip address must be a valid IPv4 or IPv6 address.' });
      sim.inject({ status: 200, body: '{"data":{}}' });
      const s = await runEnricher(opts({ concurrency: 1 }));
      assert.equal(s.valueErrors, 2);
      assert.equal(s.found, 1);
      assert.equal(s.stopped, undefined);
    }));

  it('max_age_days is sent as maxAgeInDays; the simulator refuses out-of-range values with 422 in the documented error shape', () =>
    withSetup(
      async ({ base, sim, t, opts }) => {
        await ingest(t.store, ['45.0.2.1']);
        await runEnricher(opts());
        assert.match(must(sim.requests[0], 'sim.requests[0]').path, /maxAgeInDays=30$/);
        const http = loopbackHttp('ab-raw');
        try {
          const r = await http.request({
            url: `${base}/api/v2/check?ipAddress=1.2.3.4&maxAgeInDays=400`,
            headers: { Key: 'test-key' },
            okStatuses: [422],
          });
          assert.equal(r.headers['x-ratelimit-limit'], '1000');
          assert.deepEqual(await r.json(), {
            errors: [
              {
                detail: 'The max age in days must be between 1 and 365.',
                status: 422,
                source: { parameter: 'maxAgeInDays' },
              },
            ],
          });
          const u = await http.request({ url: `${base}/api/v2/check?ipAddress=1.2.3.4`, okStatuses: [401] });
          assert.equal(
            must(
              ((await u.json()) as { errors: { status: number }[] }).errors[0],
              '((await u.json()) as { errors: { status: number }[] }).er...',
            ).status,
            401,
          );
        } finally {
          await http.close();
        }
      },
      {},
      { max_age_days: 30 },
    ));

  it(
    'what the runner stores (lookup notes, signalled indicators) passes stix2-validator',
    { skip: VALIDATOR_SKIP, timeout: 120_000 },
    (tc) =>
      withSetup(async ({ sim, t, opts }) => {
        sim.reported.set('45.1.2.3', {
          abuseConfidenceScore: 87,
          totalReports: 412,
          countryCode: 'RU',
          isTor: true,
          lastReportedAt: '2026-02-28T22:01:00+00:00',
        });
        await ingest(t.store, ['45.1.2.3', '45.9.9.9', '2a00:1450:4001::5']);
        await runEnricher(opts());
        const { objects } = await t.store.query({ limit: 1000 });
        assert.ok(objects.filter((o) => o.type === 'note').length >= 3);
        assertValidStix([['abuseipdb', objects]], (m) => tc.diagnostic(m));
      }),
  );
});
