import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ScoreHistoryEntry } from '../../../src/store/score-history.js';
import { IDS, KEYS, T0, consoleRig } from './rig.js';
import { must } from '../../helpers/must.js';

/**
 * The score history through the object route and the console's object page (docs/scoring.md §4a):
 * the rig's <script> object went 70 → 80 (feed_x, CLEAR) → 95 (feed_amber, AMBER). A CLEAR key
 * sees the first change only; nothing it gets names the AMBER feed.
 */
const iso = (ms: number) => new Date(ms).toISOString();

describe('score history: API and console, per reader', () => {
  let rig: Awaited<ReturnType<typeof consoleRig>>;
  before(async () => {
    rig = await consoleRig();
  });
  after(() => rig?.close());

  const api = (key: string, id: string = IDS.script) =>
    rig.app.inject({ url: `/api/v1/objects/${id}`, headers: { authorization: `Bearer ${key}` } });
  const page = (key: string) =>
    rig.app.inject({
      url: `/console/objects/${IDS.script}`,
      headers: { authorization: `Bearer ${key}`, accept: 'text/html' },
    });

  it('GET /api/v1/objects/:id lists every change to a reader who sees all contributions', async () => {
    const res = await api(KEYS.ops);
    assert.equal(res.statusCode, 200, res.body);
    const h = res.json().score_history as ScoreHistoryEntry[];
    assert.deepEqual(
      h.map((e) => [e.at, e.previous, e.score, e.reason, e.sources]),
      [
        [iso(T0 + 3_600_000), 70, 80, 'source', ['feed_x']],
        [iso(T0 + 7_200_000), 80, 95, 'source', ['feed_amber']],
      ],
    );
    assert.deepEqual(h[1]?.contributors, ['feed_amber', 'feed_x']);
  });

  it('a CLEAR reader gets only the entries behind contributions it may see: no AMBER source, no AMBER-made score', async () => {
    const res = await api(KEYS.searcher);
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(
      (res.json().score_history as ScoreHistoryEntry[]).map((e) => [e.previous, e.score, e.contributors]),
      [[70, 80, ['feed_x']]],
    );
    assert.equal(res.body.includes('feed_amber'), false);
    assert.equal(res.body.includes('"score":95'), false);
  });

  it('objects without a score have no score_history', async () => {
    const id = 'malware--0d3e1c4a-4444-4a5b-8c6d-000000000004';
    await rig.store.upsert(
      [
        {
          object: { type: 'malware', spec_version: '2.1', id, name: 'm', is_family: true } as never,
          source: 'feed_x',
          tlp: 'clear',
        },
      ],
      { now: T0 },
    );
    const res = await api(KEYS.ops, id);
    assert.equal(res.statusCode, 200, res.body);
    assert.equal('score_history' in res.json(), false);
  });

  it("the console's object page shows the history table, newest first, filtered the same way", async () => {
    const ops = await page(KEYS.ops);
    assert.equal(ops.statusCode, 200);
    const table = /<table id="score-history">.*?<\/table>/s.exec(ops.body)?.[0] ?? '';
    const rows = [...table.matchAll(/<tr><td>.*?<\/tr>/gs)].map((m) => m[0]);
    assert.equal(rows.length, 2);
    assert.match(
      must(rows[0], 'the newest row'),
      /<td class="num">80<\/td><td class="num">95<\/td><td>delivered by feed_amber<\/td>/,
    );
    assert.match(
      must(rows[1], 'the older row'),
      /<td class="num">70<\/td><td class="num">80<\/td><td>delivered by feed_x<\/td>/,
    );
    const clear = await page(KEYS.searcher);
    assert.equal(clear.statusCode, 200);
    assert.equal(clear.body.includes('feed_amber'), false);
    assert.equal([...clear.body.matchAll(/delivered by/g)].length, 1);
    assert.match(clear.body, /<td class="num">70<\/td><td class="num">80<\/td><td>delivered by feed_x<\/td>/);
  });
});
