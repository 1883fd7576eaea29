import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { indicatorFor, ipFor, T0, DAY, HOUR } from '../../test/store/fixtures.js';
import { observableScoId } from '../core/ids.js';
import { TLP_MARKING_BY_LEVEL, type StixObject, type TlpLevel } from '../core/stix.js';
import { silentLogger } from '../telemetry/logger.js';
import { runEnricher, enrichCursorName, type EnrichRunOptions } from './runner.js';
import { EnrichCache, LOOKUP_PROPERTY, lookupNoteId } from './records.js';
import { quotaCursorName } from './quota.js';
import {
  CountingService,
  fakeEnricher,
  loopbackHttp,
  maxInWindow,
  tempStore,
  type TempStore,
} from '../../test/helpers/enrich-loopback.js';
import { FakeClock } from '../../test/helpers/fake-clock.js';
import type { Store } from '../store/contract.js';
import { scoreFromSources } from '../store/score.js';
import { must } from '../../test/helpers/must.js';

const http = loopbackHttp();
let svc: CountingService;

before(async () => {
  svc = await new CountingService().start();
});
after(async () => {
  await svc.close();
  await http.close();
});

function opts(store: Store, over: Partial<EnrichRunOptions> = {}): EnrichRunOptions {
  return {
    id: 'fake',
    enricher: fakeEnricher(svc.base),
    store,
    http,
    logger: silentLogger(),
    now: () => T0 + HOUR,
    signal: new AbortController().signal,
    quota: {},
    cacheTtlMs: DAY,
    maxPerRun: 1000,
    ...over,
  };
}

/** Indicators from feed-a, TLP:GREEN unless told (the enricher's default ceiling lets them out). */
async function ingest(
  store: Store,
  ns: number[],
  now = T0,
  extra: { tlp?: TlpLevel; modified?: number; source?: string } = {},
) {
  return store.upsert(
    ns.map((n) => ({
      object: indicatorFor(n, { modified: extra.modified }),
      source: extra.source ?? 'feed-a',
      confidence: 40,
      tlp: extra.tlp ?? 'green',
    })),
    { now },
  );
}

const range = (a: number, b: number): number[] => Array.from({ length: b - a }, (_, i) => a + i);

async function withStore(fn: (t: TempStore) => Promise<void>): Promise<void> {
  const t = await tempStore();
  try {
    await fn(t);
  } finally {
    await t.cleanup();
  }
}

describe('enrich runner', () => {
  it('stores a lookup note and the indicator signal, with deterministic ids, and commits the cursor', () =>
    withStore(async ({ store }) => {
      svc.arrivals.length = 0;
      svc.scores.set(ipFor(1), 90);
      await ingest(store, [1], T0, { tlp: 'amber' });
      await store.upsert(
        [
          {
            object: {
              type: 'malware',
              spec_version: '2.1',
              id: 'malware--6b6e7f2a-6bcb-4a8e-9e4a-2f4c1e0b1a11',
              created: '2024-01-01T00:00:00.000Z',
              modified: '2024-01-01T00:00:00.000Z',
              name: 'x',
              is_family: true,
            },
            source: 'feed-a',
          },
        ],
        { now: T0 },
      );
      // an enricher trusted with TLP:AMBER (the default ceiling is green)
      const sum = await runEnricher(opts(store, { maxTlp: 'amber' }));
      assert.equal(svc.arrivals.length, 1);
      assert.equal(sum.lookups, 1);
      assert.equal(sum.found, 1);
      // the malware, then (read back in the same run) its own note and its own indicator signal
      assert.equal(sum.skipped.not_indicator, 2);
      assert.equal(sum.skipped.by_enrichment, 1, 'the signal change came from enrichment');
      assert.equal(sum.signals, 1);
      assert.equal(sum.stopped, undefined);
      const ind = indicatorFor(1);
      const noteId = lookupNoteId('fake', { type: 'ipv4-addr', value: ipFor(1) });
      const note = must(await store.get(noteId), '(await store.get(noteId))');
      assert.equal(note.type, 'note');
      assert.equal(note.spec_version, '2.1');
      assert.match(String(note.content), /maliciousness 90\/100/);
      assert.deepEqual(note.object_refs, [ind.id, observableScoId({ type: 'ipv4-addr', value: ipFor(1) })].sort());
      assert.deepEqual(
        note.object_marking_refs,
        [TLP_MARKING_BY_LEVEL.amber],
        'the note is as restricted as the indicator',
      );
      assert.equal((note[LOOKUP_PROPERTY] as { maliciousness: number }).maliciousness, 90);
      assert.deepEqual(Object.keys(must(note.x_stixgate, 'note.x_stixgate').sources), ['enrich:fake']);
      const stored = must(await store.get(ind.id), '(await store.get(ind.id))');
      assert.equal(stored.x_stixgate?.sources['enrich:fake']?.confidence, 90);
      // the score formula (src/store/score.ts) reads the enrichment source as a signal: it rises above the feed's 40
      assert.equal(
        must(stored.x_stixgate, 'stored.x_stixgate').score,
        scoreFromSources(must(stored.x_stixgate, 'stored.x_stixgate').sources),
      );
      assert.ok(
        must(must(stored.x_stixgate, 'stored.x_stixgate').score, 'stored.x_stixgate.score') > 40,
        `score ${must(stored.x_stixgate, 'stored.x_stixgate').score}`,
      );
      assert.equal(await store.getCursor(enrichCursorName('fake')), String(sum.cursor));
      assert.equal(sum.cursor, 4);
      assert.equal(await store.head(), 4);
      const again = await runEnricher(opts(store));
      assert.equal(again.changes, 0);
      assert.equal(svc.arrivals.length, 1);
      svc.scores.delete(ipFor(1));
    }));

  it('resumes from its cursor: max_per_run splits the work, nothing is looked up twice', () =>
    withStore(async ({ store }) => {
      svc.arrivals.length = 0;
      svc.paths.length = 0;
      await ingest(store, range(100, 110));
      const a = await runEnricher(opts(store, { maxPerRun: 4 }));
      assert.equal(a.lookups, 4);
      assert.equal(a.stopped, 'max_per_run');
      assert.equal(a.cursor, 4);
      const b = await runEnricher(opts(store, { maxPerRun: 4 }));
      assert.equal(b.lookups, 4);
      const c = await runEnricher(opts(store, { maxPerRun: 4 }));
      assert.equal(c.lookups, 2);
      assert.equal(c.stopped, undefined);
      assert.equal(svc.arrivals.length, 10);
      assert.equal(new Set(svc.paths).size, 10);
      const notes = await store.getMany(
        range(100, 110).map((n) => lookupNoteId('fake', { type: 'ipv4-addr', value: ipFor(n) })),
      );
      assert.equal(notes.size, 10);
    }));

  it('a second change to the same value within the TTL makes no request; after the TTL it does; across restarts too', () =>
    withStore(async (t) => {
      svc.arrivals.length = 0;
      let now = T0 + HOUR;
      const cache = new EnrichCache(100);
      await ingest(t.store, [200], T0);
      await runEnricher(opts(t.store, { now: () => now, cache }));
      assert.equal(svc.arrivals.length, 1);
      // the feed changes the indicator (new name → new version) within the TTL
      now += 2 * HOUR;
      await t.store.upsert([{ object: indicatorFor(200, { modified: now, name: 'renamed' }), source: 'feed-a' }], {
        now,
      });
      let s = await runEnricher(opts(t.store, { now: () => now, cache }));
      assert.equal(s.cacheHits, 1);
      assert.equal(svc.arrivals.length, 1, 'cache hit: no request');
      // restart: no in-memory cache, the store's lookup note answers
      await t.reopen();
      now += HOUR;
      await t.store.upsert(
        [{ object: indicatorFor(200, { modified: now, name: 'renamed again' }), source: 'feed-a' }],
        { now },
      );
      s = await runEnricher(opts(t.store, { now: () => now }));
      assert.equal(s.cacheHits, 1);
      assert.equal(svc.arrivals.length, 1, 'store record: no request after a restart');
      // past the TTL: a new change makes a new request
      now += DAY;
      await t.store.upsert(
        [{ object: indicatorFor(200, { modified: now, name: 'renamed a third time' }), source: 'feed-a' }],
        { now },
      );
      s = await runEnricher(opts(t.store, { now: () => now, cache }));
      assert.equal(s.lookups, 1);
      assert.equal(svc.arrivals.length, 2);
      const note = must(
        await t.store.get(lookupNoteId('fake', { type: 'ipv4-addr', value: ipFor(200) })),
        "(await t.store.get(lookupNoteId('fake', { type: 'ipv4-add...",
      );
      assert.equal((note[LOOKUP_PROPERTY] as { looked_up: string }).looked_up, new Date(now).toISOString());
      // the enrichment's own change, even after the TTL, does not start another lookup
      now += 2 * DAY;
      s = await runEnricher(opts(t.store, { now: () => now, cache }));
      assert.equal(svc.arrivals.length, 2);
    }));

  it('skips revoked and expired indicators and values the enricher does not handle', () =>
    withStore(async ({ store }) => {
      svc.arrivals.length = 0;
      const revoked = { ...indicatorFor(300), revoked: true };
      const expired = indicatorFor(301, { validUntil: T0 + 1000 });
      const domain: StixObject = {
        ...indicatorFor(302),
        id: 'indicator--0d1b5a63-8a6c-4a43-9f3d-39e0d1a7a302',
        pattern: "[domain-name:value = 'example.org']",
      };
      await store.upsert(
        [revoked, expired, domain].map((object) => ({ object, source: 'feed-a', tlp: 'clear' as const })),
        { now: T0 },
      );
      const s = await runEnricher(opts(store));
      assert.equal(svc.arrivals.length, 0);
      assert.equal(s.skipped.inactive, 2);
      assert.equal(s.skipped.no_values, 1);
      assert.equal(s.cursor, 3);
    }));

  it('sends a value only when a contribution at or below its ceiling (default green) lists it', () =>
    withStore(async ({ store }) => {
      svc.arrivals.length = 0;
      svc.paths.length = 0;
      await ingest(store, [600], T0, { tlp: 'amber' }); // amber only: never sent
      await ingest(store, [601], T0, { tlp: 'red', source: 'feed-red' }); // red only: never sent
      await ingest(store, [602], T0, { tlp: 'red', source: 'feed-red' }); // red and clear: sent, as clear
      await ingest(store, [602], T0, { tlp: 'clear', source: 'feed-clear' });
      await ingest(store, [603], T0, { tlp: 'green' });
      const s = await runEnricher(opts(store));
      const sent = svc.paths.map((p) => new URL(p, 'http://x').searchParams.get('v'));
      assert.deepEqual(sent.sort(), [ipFor(602), ipFor(603)].sort());
      assert.equal(
        s.skipped.tlp,
        2,
        'the amber and the red value (a change carries the latest state: 602 is red and clear)',
      );
      const note = must(
        await store.get(lookupNoteId('fake', { type: 'ipv4-addr', value: ipFor(602) })),
        "(await store.get(lookupNoteId('fake', { type: 'ipv4-addr'...",
      );
      assert.equal(
        note.x_stixgate?.sources['enrich:fake']?.tlp,
        'clear',
        'the result is as restricted as what the enricher saw',
      );
      const ind = must(await store.get(indicatorFor(602).id), '(await store.get(indicatorFor(602).id))');
      assert.equal(ind.x_stixgate?.sources['enrich:fake']?.tlp, 'clear');
    }));

  it('a 429 stops the run; no request before Retry-After, even after a restart; then it resumes', () =>
    withStore(async (t) => {
      svc.arrivals.length = 0;
      let now = T0 + HOUR;
      await ingest(t.store, range(400, 405));
      svc.throttle = { times: 1, retryAfter: '120' };
      const a = await runEnricher(opts(t.store, { now: () => now }));
      assert.equal(a.stopped, 'quota');
      assert.equal(a.error?.code, 'STIXGATE_ERR_ENRICH_QUOTA');
      assert.equal(a.retryAfterMs, 120_000);
      assert.equal(a.cursor, 0);
      assert.equal(svc.arrivals.length, 1);
      now += 60_000;
      await t.reopen();
      const b = await runEnricher(opts(t.store, { now: () => now }));
      assert.equal(b.stopped, 'quota');
      assert.equal(b.retryAfterMs, 60_000);
      assert.equal(svc.arrivals.length, 1, 'no request before Retry-After');
      now += 61_000;
      const c = await runEnricher(opts(t.store, { now: () => now }));
      assert.equal(c.stopped, undefined);
      assert.equal(c.lookups, 5);
      assert.equal(svc.arrivals.length, 6);
      assert.equal(c.cursor, await t.store.head());
    }));

  it('never exceeds the quotas under load of 1,000 distinct values (counted at the service, fake clock); the daily count survives a restart', () =>
    withStore(async (t) => {
      svc.arrivals.length = 0;
      svc.delayMs = 3;
      const clock = new FakeClock();
      svc.now = clock.now;
      const windowMs = 60_000;
      const quota = { per_minute: 20, per_day: 150 };
      await ingest(t.store, range(1000, 2000));
      const started = clock.now();
      const counts = { request: 0, quotaWait: 0, cacheHit: 0, errors: [] as string[] };
      const metrics = {
        request: () => counts.request++,
        quotaWait: () => counts.quotaWait++,
        cacheHit: () => counts.cacheHit++,
        error: (r: string) => counts.errors.push(r),
      };
      // the run ends on the daily quota; the minute windows pass on the test's clock, and a slot
      // comes back one window after its answer whatever the load of the machine
      const o = {
        now: clock.now,
        timers: clock.timers,
        quota,
        inflightMs: 2000,
        concurrency: 4,
        maxRunMs: 86_400_000,
        metrics,
      };
      const a = await clock.run(runEnricher(opts(t.store, o)));
      assert.equal(counts.request, 150, 'one request hook per request');
      assert.ok(counts.quotaWait > 0, 'lookups waited for minute slots');
      assert.ok(counts.errors.length >= 1 && counts.errors.every((r) => r === 'quota_day'), counts.errors.join());
      assert.equal(a.stopped, 'quota');
      assert.equal(svc.arrivals.length, 150, 'the daily quota is used up exactly');
      assert.ok(
        maxInWindow(svc.arrivals, windowMs) <= 20,
        `at most 20 per ${windowMs} ms, saw ${maxInWindow(svc.arrivals, windowMs)}`,
      );
      assert.ok(clock.now() - started >= (150 / 20 - 1) * windowMs, 'the minute quota spaced the requests');
      assert.equal(a.lookups, 150);
      assert.equal(a.cursor, 150);
      // crash/restart: the daily counter is in the store
      await t.reopen();
      assert.match(
        must(await t.store.getCursor(quotaCursorName('fake')), "(await t.store.getCursor(quotaCursorName('fake')))"),
        /"used":150/,
      );
      const b = await clock.run(runEnricher(opts(t.store, o)));
      assert.equal(b.stopped, 'quota');
      assert.equal(svc.arrivals.length, 150);
      svc.delayMs = 0;
      svc.now = Date.now;
    }));

  it('a restart right after a burst does not start a second burst within the window (fake clock)', () =>
    withStore(async (t) => {
      svc.arrivals.length = 0;
      const clock = new FakeClock();
      svc.now = clock.now;
      const windowMs = 60_000;
      await ingest(t.store, range(3000, 3012));
      const o = { now: clock.now, timers: clock.timers, quota: { per_minute: 5 }, inflightMs: 1000, maxPerRun: 5 };
      await clock.run(runEnricher(opts(t.store, o)));
      await t.reopen();
      await clock.run(runEnricher(opts(t.store, o)));
      assert.equal(svc.arrivals.length, 10);
      assert.ok(maxInWindow(svc.arrivals, windowMs) <= 5, `saw ${maxInWindow(svc.arrivals, windowMs)} in one window`);
      svc.now = Date.now;
    }));

  it('an aborted run commits what it looked up and stops', () =>
    withStore(async ({ store }) => {
      svc.arrivals.length = 0;
      svc.paths.length = 0;
      await ingest(store, range(500, 520));
      const ac = new AbortController();
      // the shutdown arrives while the fourth lookup is in flight (not after a wall-clock delay)
      svc.onArrival = (n) => {
        if (n === 4) ac.abort(new Error('shutdown'));
      };
      const s = await runEnricher(opts(store, { signal: ac.signal }));
      svc.onArrival = undefined;
      assert.equal(s.stopped, 'aborted');
      assert.ok(s.cursor < 20 && s.cursor >= 1, `cursor ${s.cursor}`);
      const rest = await runEnricher(opts(store));
      assert.equal(rest.cursor, await store.head());
      assert.equal(new Set(svc.paths).size, 20, 'every value looked up');
      // only the request in flight at the abort (its answer was dropped) is repeated
      assert.ok(svc.arrivals.length <= 21, `${svc.arrivals.length} requests`);
    }));

  it('a defect in the enricher (not a StixgateError) stops the run and keeps the cursor', () =>
    withStore(async ({ store }) => {
      await ingest(store, [600, 601]);
      const broken = {
        types: ['ipv4-addr' as const],
        enrich: async () => {
          throw new TypeError('boom');
        },
      };
      const s = await runEnricher(opts(store, { enricher: broken }));
      assert.equal(s.stopped, 'error');
      assert.equal(s.error?.reason, 'internal');
      assert.match(must(s.error, 's.error').message, /enricher fake: boom/);
      assert.equal(s.cursor, 0);
    }));
});
