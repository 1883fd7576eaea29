import { it, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Correlator } from '../../src/correlate/index.js';
import { SharedCorrelation } from '../../src/correlate/opensearch.js';
import type { RelatedResult } from '../../src/correlate/related.js';
import type { LinkDoc, LinkImage, LinksIndex } from '../../src/store/opensearch/links.js';
import type { OpenSearchStore } from '../../src/store/opensearch/index.js';
import { NOW } from '../correlate/fixtures.js';
import { CASE_BATCHES, CASE_QUERIES, CASE_SUMMARIES, CASES_CAP } from '../correlate/shared-cases.js';
import { SKIP_REASON, freshStore } from './opensearch-helpers.js';

const TTL = 30_000;

/** A clock the test moves (lease expiry without waiting). */
function clock(start = NOW) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

interface Rig {
  store: OpenSearchStore;
  dir: string;
  reference: Correlator;
  instance(
    holder: string,
    o?: { links?: LinksIndex; now?: () => number; pageSize?: number; publishRows?: number },
  ): SharedCorrelation;
  put(batch: number): Promise<void>;
}

async function rig(t: { after: (fn: () => unknown) => void }): Promise<Rig> {
  const { store, cleanup } = await freshStore();
  const dir = mkdtempSync(join(tmpdir(), 'stixgate-links-'));
  // the embedded index, following the same change log: the answers every instance must give
  const reference = new Correlator({ dataDir: ':memory:', maxFanout: CASES_CAP });
  const instances: SharedCorrelation[] = [];
  t.after(async () => {
    for (const i of instances) await i.close().catch(() => undefined);
    await reference.close();
    await cleanup();
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    store,
    dir,
    reference,
    instance(holder, o = {}) {
      const c = new SharedCorrelation({
        store,
        links: o.links ?? store.links(),
        dir: join(dir, holder),
        holder,
        leaseTtlMs: TTL,
        maxFanout: CASES_CAP,
        pageSize: o.pageSize ?? 2000,
        publishRows: o.publishRows,
        now: o.now ?? (() => NOW),
      });
      instances.push(c);
      return c;
    },
    async put(batch) {
      const objects = CASE_BATCHES[batch] ?? [];
      const r = await store.upsert(
        objects.map((object) => ({ object, source: 'feed_a' })),
        { now: NOW },
      );
      assert.equal(r.rejected.length, 0, JSON.stringify(r.rejected));
    },
  };
}

const shape = (r: RelatedResult | undefined) =>
  r && { capped: r.capped, related: r.related.map((x) => ({ id: x.object.id, path: x.path })) };

/** Every question of the shared case list, answered by `c` (an instance or the embedded index). */
async function answers(c: Pick<SharedCorrelation, 'related'> | Correlator, store: OpenSearchStore): Promise<unknown[]> {
  const out: unknown[] = [];
  for (const [id, o] of CASE_QUERIES) out.push([id, o, shape(await c.related(store, id, { now: NOW, ...o }))]);
  return out;
}

async function summaries(c: SharedCorrelation): Promise<unknown[]> {
  return Promise.all(CASE_SUMMARIES.map((id) => c.summary(id)));
}

/** Every document of a links index by id (the undo document left out). */
async function contents(links: LinksIndex): Promise<Map<string, LinkDoc>> {
  const docs: LinkDoc[] = [];
  await links.scan((page) => docs.push(...page));
  const byKey = new Map<string, LinkDoc>();
  for (const d of docs) byKey.set(JSON.stringify(Object.entries(d).sort()), d);
  return byKey;
}

if (SKIP_REASON) it('correlation in OpenSearch', { skip: SKIP_REASON }, () => {});
else {
  test('two instances on one store: only the lease holder computes; both answer as the embedded index', async (t) => {
    const r = await rig(t);
    const a = r.instance('a');
    const b = r.instance('b');
    let changes = 0;
    for (let i = 0; i < CASE_BATCHES.length; i++) {
      await r.put(i);
      changes += CASE_BATCHES[i]?.length ?? 0;
      assert.deepEqual(await a.catchUp(), { leading: true });
      assert.deepEqual(await b.catchUp(), { leading: false });
      await r.reference.catchUp(r.store);
    }
    assert.equal(a.writer.counts.applied, changes);
    assert.equal(a.writer.counts.takeovers, 1);
    assert.ok(a.writer.counts.written > 0);
    assert.deepEqual(b.writer.counts, { applied: 0, written: 0, publishes: 0, takeovers: 0, loaded: 0 });
    await r.store.links().refresh();

    const expected = await answers(r.reference, r.store);
    assert.deepEqual(await answers(a, r.store), expected);
    assert.deepEqual(await answers(b, r.store), expected);
    const sums = CASE_SUMMARIES.map((id) => r.reference.relatedSummary(id));
    assert.deepEqual(await summaries(a), sums);
    assert.deepEqual(await summaries(b), sums);

    // the fan-out cap holds on the shared index: one value, CASES_CAP + 4 holders
    const crowded = await b.related(r.store, 'indicator--00000000-0000-4000-8000-000000000064', { now: NOW });
    assert.ok(crowded?.capped);
    const peers = crowded.related.filter((x) => x.path[0]?.kind === 'same-value');
    assert.ok(peers.length > 0 && peers.length <= CASES_CAP, `${peers.length} same-value peers`);
    // the instance that does not hold the lease built nothing of its own
    assert.equal(b.writer.leading, false);
  });

  test('the lease holder killed mid-publish: another takes over, rolls back, finishes; links equal a clean run', async (t) => {
    const r = await rig(t);
    for (let i = 0; i < CASE_BATCHES.length; i++) await r.put(i);
    await r.reference.catchUp(r.store);
    const c = clock();
    // the holder dies in the middle of its fourth publish's bulk: half of the documents written
    const dying = r.store.links();
    const realPut = dying.put.bind(dying);
    let calls = 0;
    dying.put = async (images: readonly LinkImage[]) => {
      if (++calls === 8) {
        await realPut(images.slice(0, Math.ceil(images.length / 2)));
        throw new Error('killed');
      }
      return realPut(images);
    };
    // a publish after every slice (of up to 7 changes here): many publishes, one of them cut
    const a = r.instance('a', { links: dying, now: c.now, pageSize: 7, publishRows: 1 });
    await assert.rejects(a.catchUp(), /killed/);
    assert.equal(a.writer.counts.publishes, 3);
    const cursorBefore = await r.store.links().cursor();
    const undo = (await r.store.links().get(['undo'])).get('undo');
    assert.equal(undo?.prev, cursorBefore, 'the cut publish left its before-images against the last cursor');

    const b = r.instance('b', { now: c.now, pageSize: 7, publishRows: 1 });
    assert.deepEqual(await b.catchUp(), { leading: false }, 'the dead holder keeps its lease until it expires');
    c.advance(TTL + 1);
    assert.deepEqual(await b.catchUp(), { leading: true });
    assert.equal(b.writer.counts.takeovers, 1);
    assert.ok(b.writer.counts.loaded > 0, 'the new holder loaded the published index');
    assert.ok(b.writer.counts.applied < r.reference.seq, 'and applied only what was not published');
    assert.notEqual(await r.store.links().cursor(), cursorBefore);

    // a clean run of one writer on another index of the same store
    const clean = r.store.links().withIndex(`${r.store.links().name}-clean`);
    const ref = r.instance('ref', { links: clean });
    await ref.catchUp();
    const [got, want] = [await contents(r.store.links()), await contents(clean)];
    await clean.destroy();
    const missing = [...want.keys()].filter((k) => !got.has(k));
    const extra = [...got.keys()].filter((k) => !want.has(k));
    assert.deepEqual({ missing, extra }, { missing: [], extra: [] });
    assert.equal(got.size, want.size);

    await r.store.links().refresh();
    assert.deepEqual(await answers(b, r.store), await answers(r.reference, r.store));
  });
}
