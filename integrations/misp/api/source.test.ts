import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deterministicId } from '../../../src/core/ids.js';
import { StixgateError } from '../../../src/core/errors.js';
import type { Page } from '../../../src/pipeline/types.js';
import { lastCursor, mispComponent, runPages, FIXED_NOW } from '../../../test/helpers/misp-source.js';
import { startMispSimulator, type SimAttribute, type SimEvent } from './simulator.js';
import { must } from '../../../test/helpers/must.js';
import { componentPages } from '../../../test/helpers/source-harness.js';

const KEY = 'sim-key-0123456789abcdef';
const T0 = Math.floor(FIXED_NOW / 1000) - 3600; // an hour before the run

const hex = (n: number, w: number) => n.toString(16).padStart(w, '0');
const uuid = (kind: number, n: number) => `${hex(kind, 8)}-0000-4000-8000-${hex(n, 12)}`;

function attr(n: number, ts: number, toIds = true): SimAttribute {
  return {
    uuid: uuid(2, n),
    type: 'ip-dst',
    category: 'Network activity',
    value: `198.51.100.${n}`,
    to_ids: toIds,
    timestamp: ts,
  };
}
function event(n: number, ts: number, attributes: SimAttribute[], extra: Partial<SimEvent> = {}): SimEvent {
  return {
    uuid: uuid(1, n),
    info: `event ${n}`,
    timestamp: ts,
    published: true,
    tags: ['tlp:green'],
    attributes,
    ...extra,
  };
}

/** 3 events, 25 attributes with distinct timestamps; the newest attribute is NOT on the last page. */
function corpus(): SimEvent[] {
  const a = Array.from({ length: 25 }, (_, i) => attr(i + 1, T0 + i * 10));
  return [event(1, T0 + 240, a.slice(0, 10)), event(2, T0 + 240, a.slice(10, 20)), event(3, T0 + 240, a.slice(20))];
}

const ids = (pages: Page[], type: string) =>
  pages
    .flatMap((p) => p.items.map((i) => i.object))
    .filter((o) => o.type === type)
    .map((o) => o.id)
    .sort();
const indicatorIds = (n: number[]) => n.map((i) => `indicator--${uuid(2, i)}`).sort();
const range = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => a + i);

const base = (url: string, extra: Record<string, unknown> = {}) => ({
  url,
  api_key: KEY,
  mode: 'attributes',
  page_size: 10,
  overlap_secs: 60,
  retry: { max_attempts: 1, base_delay_secs: 0.01, max_delay_secs: 0.1 },
  ...extra,
});

test('misp_api attributes mode: unsorted pages, cursor = max attribute timestamp of the completed window (F21)', async () => {
  const sim = await startMispSimulator(corpus(), { key: KEY, order: 'reverse' });
  try {
    const pages = await runPages('misp_api', base(sim.url));
    assert.deepEqual(ids(pages, 'indicator'), indicatorIds(range(1, 25)));
    // only the final page carries the cursor: the newest attribute (T0+240) arrived on page 1
    assert.deepEqual(pages.filter((p) => p.cursor !== undefined).length, 1);
    assert.equal(must(pages.at(-1), 'pages.at(-1)').cursor, JSON.stringify({ ts: T0 + 240 }));
    const searches = sim.requests.filter((r) => r.path === '/attributes/restSearch');
    assert.deepEqual(
      searches.map((r) => r.body.page),
      [1, 2, 3],
    );
    assert.equal(must(searches[0], 'searches[0]').body.timestamp, Math.floor(FIXED_NOW / 1000) - 30 * 86400);
    assert.equal(must(searches[0], 'searches[0]').body.published, true);
    assert.equal(must(searches[0], 'searches[0]').authorization, KEY);

    // next run: window starts overlap_secs before the cursor; an attribute stamped in the same second
    // as the cursor and one committed late (older timestamp, inside the overlap) both arrive
    must(sim.events[2], 'sim.events[2]').attributes.push(attr(26, T0 + 240), attr(27, T0 + 200));
    sim.requests.length = 0;
    const next = await runPages('misp_api', base(sim.url), lastCursor(pages));
    assert.equal(must(sim.requests[0], 'sim.requests[0]').body.timestamp, T0 + 180);
    // timestamp >= T0+180: attributes 19..25 (T0+180..T0+240), 26 and 27
    assert.deepEqual(ids(next, 'indicator'), indicatorIds([...range(19, 25), 26, 27]));
    assert.ok(ids(next, 'indicator').includes(`indicator--${uuid(2, 26)}`));
    assert.ok(ids(next, 'indicator').includes(`indicator--${uuid(2, 27)}`));
    assert.equal(lastCursor(next), JSON.stringify({ ts: T0 + 240 }));
  } finally {
    await sim.close();
  }
});

test('misp_api: a window cut short commits no cursor; the replay yields the same ids, no duplicates (F21)', async () => {
  const sim = await startMispSimulator(corpus(), { key: KEY, order: 'shuffled', failRequest: { n: 2, status: 500 } });
  try {
    const seen: Page[] = [];
    const comp = mispComponent('misp_api', base(sim.url));
    await assert.rejects(
      async () => {
        for await (const p of componentPages(comp, FIXED_NOW)) seen.push(p);
      },
      (e: unknown) => e instanceof StixgateError && e.code === 'STIXGATE_ERR_HTTP_STATUS',
    );
    await comp.http.close();
    assert.ok(seen.length > 0);
    assert.equal(lastCursor(seen), undefined);
    const first = ids(seen, 'indicator');
    assert.equal(first.length, 10);
    const replay = await runPages('misp_api', base(sim.url));
    const all = ids(replay, 'indicator');
    assert.deepEqual(all, indicatorIds(range(1, 25)));
    assert.equal(new Set(all).size, all.length);
    for (const id of first) assert.ok(all.includes(id));
    assert.equal(lastCursor(replay), JSON.stringify({ ts: T0 + 240 }));
  } finally {
    await sim.close();
  }
});

test('misp_api events mode: an event edited (and published) later with old attributes is ingested whole; cursor = event timestamp', async () => {
  const old = [attr(1, T0 - 86400 * 2), attr(2, T0 - 86400 * 2, false)];
  const sim = await startMispSimulator(
    [
      event(9, T0 + 100, old, {
        Galaxy: [{ type: 'mitre-attack-pattern', GalaxyCluster: [{ uuid: uuid(3, 1), value: 'Phishing - T1566' }] }],
      }),
    ],
    { key: KEY },
  );
  try {
    const pages = await runPages(
      'misp_api',
      base(sim.url, { mode: 'events', tags: ['tlp:green', '!internal'] }),
      JSON.stringify({ ts: T0 }),
    );
    assert.equal(must(sim.requests[0], 'sim.requests[0]').path, '/events/restSearch');
    assert.deepEqual(must(sim.requests[0], 'sim.requests[0]').body.tags, ['tlp:green', '!internal']);
    assert.equal(must(sim.requests[0], 'sim.requests[0]').body.timestamp, T0 - 60);
    assert.deepEqual(ids(pages, 'indicator'), [`indicator--${uuid(2, 1)}`]);
    assert.deepEqual(ids(pages, 'ipv4-addr').length, 1); // the to_ids: false attribute is an observable only
    assert.deepEqual(ids(pages, 'report'), [`report--${uuid(1, 9)}`]);
    assert.deepEqual(ids(pages, 'attack-pattern'), [`attack-pattern--${uuid(3, 1)}`]);
    assert.deepEqual(ids(pages, 'relationship'), [
      deterministicId('relationship', `indicates|indicator--${uuid(2, 1)}|attack-pattern--${uuid(3, 1)}`),
    ]);
    assert.equal(lastCursor(pages), JSON.stringify({ ts: T0 + 100 }));
  } finally {
    await sim.close();
  }
});

test('misp_api: a server that ignores `timestamp` adds nothing new; one that ignores `page` is stopped', async () => {
  const sim = await startMispSimulator(corpus(), { key: KEY, ignoreTimestamp: true });
  try {
    const a = await runPages('misp_api', base(sim.url));
    const b = await runPages('misp_api', base(sim.url), lastCursor(a));
    assert.deepEqual(ids(b, 'indicator'), ids(a, 'indicator'));
    assert.equal(lastCursor(b), lastCursor(a));
  } finally {
    await sim.close();
  }
  const stuck = await startMispSimulator(corpus(), { key: KEY, ignorePage: true });
  try {
    await assert.rejects(
      runPages('misp_api', base(stuck.url)),
      (e: unknown) => e instanceof StixgateError && e.reason === 'misp_pagination_stuck',
    );
    assert.equal(stuck.requests.length, 2);
  } finally {
    await stuck.close();
  }
});

test('misp_api: wrong key → 403 without the key in the message; probe reads /servers/getVersion', async () => {
  const sim = await startMispSimulator(corpus(), { key: KEY });
  try {
    await assert.rejects(runPages('misp_api', base(sim.url, { api_key: 'wrong-key-value' })), (e: unknown) => {
      assert.ok(e instanceof StixgateError);
      assert.equal(e.code, 'STIXGATE_ERR_HTTP_STATUS');
      assert.equal(e.reason, 'status_4xx');
      assert.ok(!e.message.includes('wrong-key-value'));
      return true;
    });
    const comp = mispComponent('misp_api', base(sim.url));
    assert.equal(
      await must(comp.source.probe, 'comp.source.probe').call(comp.source, {
        id: 't',
        logger: comp.logger,
        http: comp.http,
        signal: new AbortController().signal,
        now: FIXED_NOW,
      }),
      'MISP 2.4.190',
    );
    await comp.http.close();
    assert.equal(must(sim.requests.at(-1), 'sim.requests.at(-1)').path, '/servers/getVersion');
  } finally {
    await sim.close();
  }
});

test('misp_api: __proto__ / constructor keys at any depth are dropped (F12)', async () => {
  const raw = `{"response":[{"Event":{"uuid":"${uuid(1, 1)}","info":"x","timestamp":"${T0}","__proto__":{"polluted":1},
    "Tag":[{"name":"tlp:amber","constructor":{"prototype":{"polluted":2}}}],
    "Attribute":[{"uuid":"${uuid(2, 1)}","type":"domain","value":"evil.example","to_ids":true,"timestamp":"${T0}","__proto__":{"to_ids":false,"polluted":3}}]}}]}`;
  const sim = await startMispSimulator([], { key: KEY, rawEvents: raw });
  try {
    const pages = await runPages('misp_api', base(sim.url, { mode: 'events' }));
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    const objects = pages.flatMap((p) => p.items.map((i) => i.object));
    const ind = must(
      objects.find((o) => o.type === 'indicator'),
      "objects.find((o) => o.type === 'indicator')",
    );
    assert.equal(ind.pattern, "[domain-name:value = 'evil.example']");
    assert.deepEqual(ind.object_marking_refs, ['marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421']);
    assert.ok(!JSON.stringify(objects).includes('polluted'));
  } finally {
    await sim.close();
  }
});

test('misp_api: attribute timestamps ahead of now never move the cursor past now (F26)', async () => {
  const nowSecs = Math.floor(FIXED_NOW / 1000);
  const sim = await startMispSimulator([event(1, nowSecs + 86400, [attr(1, T0), attr(2, nowSecs + 86400)])], {
    key: KEY,
  });
  try {
    const pages = await runPages('misp_api', base(sim.url));
    assert.deepEqual(ids(pages, 'indicator'), indicatorIds([1, 2]));
    assert.equal(lastCursor(pages), JSON.stringify({ ts: nowSecs }));
    // so an attribute added later with a normal timestamp is still found
    must(sim.events[0], 'sim.events[0]').attributes.push(attr(3, nowSecs - 10));
    const next = await runPages('misp_api', base(sim.url), lastCursor(pages), FIXED_NOW + 60_000);
    assert.ok(ids(next, 'indicator').includes(`indicator--${uuid(2, 3)}`));
  } finally {
    await sim.close();
  }
});
