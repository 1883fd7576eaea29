import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validate } from '../core/schema.js';
import type { StixObject } from '../core/stix.js';
import { QuotaGate, nextUtcMidnight, parseQuotaState, quotaCursorName, utcDay } from './quota.js';
import { buildEnrichersSchema, enricherHttpPolicy, enricherRunSettings } from './schema.js';
import { changedByEnrichment } from './select.js';
import { tempStore } from '../../test/helpers/enrich-loopback.js';
import type { EnricherDefinition } from './types.js';
import type { HttpClient } from '../http/types.js';
import { FakeClock } from '../../test/helpers/fake-clock.js';
import { s } from '../core/schema.js';
import { must } from '../../test/helpers/must.js';

const okHttp: HttpClient = {
  async request() {
    return {
      status: 200,
      headers: {},
      url: 'x',
      body: (async function* () {})(),
      text: async () => '',
      json: async () => ({}),
      dump: async () => {},
    };
  },
};

describe('enrichment quota gate', () => {
  it('UTC days and midnights', () => {
    const t = Date.parse('2026-03-01T23:59:59.000Z');
    assert.equal(utcDay(t), '2026-03-01');
    assert.equal(nextUtcMidnight(t), Date.parse('2026-03-02T00:00:00.000Z'));
    assert.equal(parseQuotaState('not json'), undefined);
    assert.equal(parseQuotaState('{"day":"2026-03-01"}'), undefined);
    assert.deepEqual(parseQuotaState('{"day":"2026-03-01","used":3,"recent":[1,"x",2]}'), {
      day: '2026-03-01',
      used: 3,
      recent: [1, 2],
    });
  });

  it('the daily count resets at 00:00 UTC and persists before each request', async () => {
    const t = await tempStore();
    try {
      let now = Date.parse('2026-03-01T23:59:58.000Z');
      const ac = new AbortController();
      const g = await QuotaGate.open({ id: 'q', store: t.store, quota: { per_day: 2 }, now: () => now });
      const http = g.http(okHttp, ac.signal);
      await http.request({ url: 'http://x/1' });
      assert.match(
        must(await t.store.getCursor(quotaCursorName('q')), "(await t.store.getCursor(quotaCursorName('q')))"),
        /"day":"2026-03-01","used":1/,
      );
      await http.request({ url: 'http://x/2' });
      await assert.rejects(
        http.request({ url: 'http://x/3' }),
        (e: Error & { code?: string; retryAfterMs?: number }) => {
          assert.equal(e.code, 'STIXGATE_ERR_ENRICH_QUOTA');
          assert.equal(e.retryAfterMs, 2000);
          return true;
        },
      );
      assert.equal(g.blockedUntil(), Date.parse('2026-03-02T00:00:00.000Z'));
      now += 3000;
      assert.equal(g.blockedUntil(), undefined);
      await http.request({ url: 'http://x/4' });
      assert.equal(g.usedToday(), 1);
      await g.close();
      // a new gate (a restart) reads the same state
      const g2 = await QuotaGate.open({ id: 'q', store: t.store, quota: { per_day: 2 }, now: () => now });
      assert.equal(g2.usedToday(), 1);
      await g2.close();
    } finally {
      await t.cleanup();
    }
  });
});

describe('enrichment quota gate: minute windows (fake clock)', () => {
  /** A service that notes, on the test's clock, when each request reaches it. */
  const timedHttp = (starts: number[], clock: FakeClock): HttpClient => ({
    request: (r) => {
      starts.push(clock.now());
      return okHttp.request(r);
    },
  });

  it('below one per minute means one per 1/per_minute minutes', async () => {
    const t = await tempStore();
    try {
      const clock = new FakeClock();
      const starts: number[] = [];
      const g = await QuotaGate.open({
        id: 'f',
        store: t.store,
        quota: { per_minute: 0.5 },
        now: clock.now,
        timers: clock.timers,
      });
      const http = g.http(timedHttp(starts, clock), new AbortController().signal);
      await clock.run(Promise.all([http.request({ url: 'http://x/1' }), http.request({ url: 'http://x/2' })]));
      // the second request waits the whole two-minute window that follows the first answer
      assert.equal(starts.length, 2);
      assert.ok(
        must(starts[1], 'starts[1]') - must(starts[0], 'starts[0]') >= 120_000,
        `${must(starts[1], 'starts[1]') - must(starts[0], 'starts[0]')} ms apart`,
      );
      await g.close();
      assert.equal(clock.pendingTimers, 0, 'close() clears the timers that give slots back');
    } finally {
      await t.cleanup();
    }
  });

  it('a lowered quota after a restart: marks of the old burst hold their slots until they leave the window', async () => {
    const t = await tempStore();
    try {
      const clock = new FakeClock();
      const burst = clock.now();
      await t.store.setCursor(
        quotaCursorName('l'),
        JSON.stringify({ day: utcDay(burst), used: 6, recent: [burst, burst, burst, burst, burst, burst] }),
      );
      clock.advance(10_000);
      const starts: number[] = [];
      const g = await QuotaGate.open({
        id: 'l',
        store: t.store,
        quota: { per_minute: 2 },
        now: clock.now,
        timers: clock.timers,
      });
      const http = g.http(timedHttp(starts, clock), new AbortController().signal);
      await clock.run(Promise.all([1, 2, 3, 4].map((i) => http.request({ url: `http://x/${i}` }))));
      assert.equal(starts.length, 4);
      assert.ok(must(starts[0], 'starts[0]') - burst >= 60_000, 'no request while the old burst is in the window');
      const all = [burst, burst, burst, burst, burst, burst, ...starts];
      for (const a of all) assert.ok(all.filter((b) => b >= a && b < a + 60_000).length <= 6, 'never more than before');
      for (const a of starts)
        assert.ok(starts.filter((b) => b >= a && b < a + 60_000).length <= 2, 'at most 2 new per window');
      await g.close();
    } finally {
      await t.cleanup();
    }
  });
});

describe('enrichment loop guard', () => {
  const obj = (sources: Record<string, string>): StixObject => ({
    type: 'indicator',
    id: 'indicator--x',
    x_stixgate: {
      sources: Object.fromEntries(Object.entries(sources).map(([k, v]) => [k, { first_seen: v, last_seen: v }])),
    },
  });
  it('a change is by enrichment when an enrich:* source is the newest provenance', () => {
    assert.equal(changedByEnrichment(obj({ feed: '2026-03-01T10:00:00.000Z' })), false);
    assert.equal(
      changedByEnrichment(obj({ feed: '2026-03-01T10:00:00.000Z', 'enrich:vt': '2026-03-01T11:00:00.000Z' })),
      true,
    );
    assert.equal(
      changedByEnrichment(obj({ feed: '2026-03-01T12:00:00.000Z', 'enrich:vt': '2026-03-01T11:00:00.000Z' })),
      false,
    );
    assert.equal(
      changedByEnrichment(obj({ feed: '2026-03-01T10:00:00.000Z', 'enrich:shodan': '2026-03-01T11:00:00.000Z' })),
      true,
      'any enricher',
    );
  });
});

describe('enrichers config schema', () => {
  const def: EnricherDefinition = {
    kind: 'enricher',
    type: 'demo',
    summary: 'demo',
    secretPaths: ['api_key'],
    defaultQuota: { per_minute: 4, per_day: 500 },
    schema: { api_key: s.string({ secret: true }) },
    create: () => ({ types: [], enrich: async () => undefined }),
  };
  it('applies the common defaults and the free-tier quota; reports unknown keys and types with their paths', () => {
    const ok = validate(buildEnrichersSchema([def]), { d: { type: 'demo', api_key: 'k' } });
    assert.ok(ok.ok);
    const c = ok.value.d;
    assert.deepEqual(must(c, 'c').quota, { per_minute: 4, per_day: 500 });
    assert.equal(must(c, 'c').interval_secs, 300);
    assert.equal(must(c, 'c').cache_ttl_hours, 24);
    assert.deepEqual(enricherRunSettings(def, must(c, 'c')), {
      service: 'demo',
      quota: { per_minute: 4, per_day: 500 },
      cacheTtlMs: 86_400_000,
      maxPerRun: 100,
      maxRunMs: 300_000,
      concurrency: 1,
      inflightMs: 30_000,
      maxTlp: 'green',
    });
    assert.equal(enricherHttpPolicy(must(c, 'c'), '/etc').retry.maxAttempts, 1);
    const bad = validate(buildEnrichersSchema([def]), {
      d: { type: 'demo', api_key: 'k', quota: { per_minut: 3 }, cache_ttl: 1 },
      e: { type: 'demon' },
    });
    assert.ok(!bad.ok);
    assert.deepEqual(bad.issues.map((i) => i.path).sort(), ['d.cache_ttl', 'd.quota.per_minut', 'e.type']);
    assert.match(
      must(
        bad.issues.find((i) => i.path === 'e.type'),
        "bad.issues.find((i) => i.path === 'e.type')",
      ).message,
      /did you mean "demo"/,
    );
  });
});
