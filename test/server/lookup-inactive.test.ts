/**
 * `include_inactive=true` on single and batch lookups: expired and revoked indicators listing the
 * value are reported beside the hits (`inactive`), with their state and when they ended, and never
 * as hits. A real embedded store with decay, a fixed clock.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { accessPolicy } from '../../src/access/policy.js';
import { buildIndex } from '../../src/lookup/index.js';
import type { buildServer } from '../../src/server/index.js';
import { openEmbeddedStore } from '../../src/store/embedded/index.js';
import { Metrics } from '../../src/telemetry/metrics.js';
import { indicatorFromObservable } from '../../src/core/indicator.js';
import { normaliseObservable } from '../../src/core/observable.js';
import type { StixObject } from '../../src/core/stix.js';
import type { Store } from '../../src/store/contract.js';
import { DAY, STANDARD, iso } from '../score/helpers.js';
import { KEYS, bearer, serverConfig, quietServer } from './helpers.js';
import { must } from '../helpers/must.js';

const NOW = Date.parse('2026-06-01T00:00:00.000Z');
const OLD = NOW - 90 * DAY;

function ind(value: string, at: number, extra: Partial<StixObject> = {}): StixObject {
  const n = normaliseObservable('ipv4-addr', value);
  assert.ok(n.ok);
  return { ...indicatorFromObservable(n.observable, { now: iso(at), validFrom: iso(at) }), ...extra };
}

describe('lookup include_inactive', () => {
  let dir: string;
  let store: Store & { close(): Promise<void> };
  let app: ReturnType<typeof buildServer>;
  const metrics = new Metrics({ defaults: false });
  let revokedAt: string;
  let expiredUntil: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'stixgate-inactive-'));
    const scoring = STANDARD();
    store = await openEmbeddedStore({ dataDir: dir, scoring });
    await store.upsert(
      [
        { object: ind('198.51.100.1', NOW), source: 'feed', tlp: 'clear' },
        // a record 90 days old: with a 7-day half-life it is expired when stored
        { object: ind('198.51.100.2', OLD), source: 'misp', seenAt: iso(OLD), tlp: 'clear' },
        { object: ind('198.51.100.3', NOW - 2 * DAY), source: 'feed', tlp: 'clear' },
        // only an amber contribution: a clear reader must not learn of it
        { object: ind('198.51.100.4', OLD), source: 'partner', seenAt: iso(OLD), tlp: 'amber' },
      ],
      { now: NOW },
    );
    revokedAt = iso(NOW - DAY);
    const v3 = ind('198.51.100.3', NOW - 2 * DAY, { revoked: true, modified: revokedAt });
    await store.upsert([{ object: v3, source: 'feed', tlp: 'clear' }], { now: NOW });
    expiredUntil = must(
      (await store.query({ value: '198.51.100.2', type: 'indicator' })).objects[0],
      "(await store.query({ value: '198.51.100.2', type: 'indica...",
    ).valid_until as string;
    const access = accessPolicy({ defaultTlp: 'amber', scoring });
    const { index } = await buildIndex(store, { now: () => NOW, access });
    app = quietServer({
      config: serverConfig({ anonymous_lookup: true }),
      index,
      store,
      metrics,
      now: () => NOW,
      access,
    });
  });

  after(async () => {
    await app?.close();
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('without the flag an expired value is a plain miss (no inactive field)', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/v1/lookup?value=198.51.100.2' });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), { value: '198.51.100.2', matched: false, indicators: [], type: 'ipv4-addr' });
  });

  it('single: an expired value answers its state and the time it ended, matched stays false', async () => {
    assert.ok(Date.parse(expiredUntil) < NOW && Date.parse(expiredUntil) > OLD);
    const res = await app.inject({ method: 'GET', url: '/api/v1/lookup?value=198.51.100.2&include_inactive=true' });
    const body = res.json();
    assert.equal(body.matched, false);
    assert.deepEqual(body.indicators, []);
    assert.equal(body.inactive.length, 1);
    const m = body.inactive[0];
    assert.deepEqual(
      {
        state: m.state,
        ended: m.ended,
        matched_value: m.matched_value,
        sources: m.sources,
        tlp: m.tlp,
        last_seen: m.last_seen,
        valid_until: m.valid_until,
      },
      {
        state: 'expired',
        ended: expiredUntil,
        matched_value: '198.51.100.2',
        sources: ['misp'],
        tlp: 'clear',
        last_seen: iso(OLD),
        valid_until: expiredUntil,
      },
    );
    assert.ok(m.score < 20);
  });

  it('single: a revoked value answers revoked with the revocation time', async () => {
    const body = (
      await app.inject({ method: 'GET', url: '/api/v1/lookup?value=198.51.100.3&include_inactive=true' })
    ).json();
    assert.equal(body.matched, false);
    assert.deepEqual(
      body.inactive.map((m: { state: string; ended: string }) => [m.state, m.ended]),
      [['revoked', revokedAt]],
    );
  });

  it('an active value is a hit with an empty inactive list; an invalid value gets none', async () => {
    const hit = (
      await app.inject({ method: 'GET', url: '/api/v1/lookup?value=198.51.100.1&include_inactive=true' })
    ).json();
    assert.equal(hit.matched, true);
    assert.deepEqual(hit.inactive, []);
    const bad = (
      await app.inject({ method: 'GET', url: '/api/v1/lookup?value=not%20a%20value&include_inactive=true' })
    ).json();
    assert.equal(bad.inactive, undefined);
  });

  it('batch (POST and repeated GET values): each value with its own inactive list; counted as hits and misses as before', async () => {
    const values = ['198.51.100.1', '198.51.100.2', '198.51.100.3', '192.0.2.99'];
    const post = (
      await app.inject({ method: 'POST', url: '/api/v1/lookup', payload: { values, include_inactive: true } })
    ).json();
    const get = (
      await app.inject({
        method: 'GET',
        url: `/api/v1/lookup?${values.map((v) => `value=${v}`).join('&')}&include_inactive=true`,
      })
    ).json();
    for (const body of [post, get]) {
      assert.deepEqual(
        body.results.map((r: { matched: boolean }) => r.matched),
        [true, false, false, false],
      );
      assert.deepEqual(
        body.results.map((r: { inactive: { state: string }[] }) => r.inactive.map((m) => m.state)),
        [[], ['expired'], ['revoked'], []],
      );
    }
    const text = await metrics.registry.metrics();
    assert.match(text, /stixgate_lookup_values_total\{result="hit"\} 3/);
  });

  it('TLP: an inactive indicator is reported only through a contribution the reader may see', async () => {
    const anon = (
      await app.inject({ method: 'GET', url: '/api/v1/lookup?value=198.51.100.4&include_inactive=true' })
    ).json();
    assert.deepEqual(anon.inactive, []);
    const reader = (
      await app.inject({
        method: 'GET',
        url: '/api/v1/lookup?value=198.51.100.4&include_inactive=true',
        headers: bearer(KEYS.reader),
      })
    ).json();
    assert.deepEqual(
      reader.inactive.map((m: { state: string; sources: string[]; tlp: string }) => [m.state, m.sources, m.tlp]),
      [['expired', ['partner'], 'amber']],
    );
  });
});
