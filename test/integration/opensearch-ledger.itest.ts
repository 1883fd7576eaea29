import { it, test } from 'node:test';
import assert from 'node:assert/strict';
import { NOW, ind, iso, ledgerHarness, type LedgerRig } from '../delivery/ledger-harness.js';
import { sinkCursorName } from '../../src/delivery/runner.js';
import { OpenSearchStore } from '../../src/store/opensearch/index.js';
import type { Store } from '../../src/store/contract.js';
import { runLedgerCases } from '../delivery/ledger-cases.js';
import { SKIP_REASON, storeOptions } from './opensearch-helpers.js';
import { must } from '../helpers/must.js';

/** The delivery ledger's cases (test/delivery/ledger-cases.ts) on the OpenSearch store, reopened on the same indices. */
const prefixes = new WeakMap<object, string>();

async function openOn(prefix: string): Promise<Store> {
  const store = new OpenSearchStore(storeOptions({ index_prefix: prefix }));
  await store.open();
  prefixes.set(store, prefix);
  return store;
}

const rig: LedgerRig = {
  open: () => openOn(storeOptions().index_prefix),
  reopen: async (store) => {
    await store.close();
    return openOn(must(prefixes.get(store), 'the prefix of the store'));
  },
  cleanup: async (store) => {
    await (store as OpenSearchStore).destroy();
    await store.close();
  },
};

if (SKIP_REASON) it('delivery ledger: opensearch', { skip: SKIP_REASON }, () => {});
else {
  runLedgerCases('opensearch', rig);

  test('opensearch: a crash between the ledger documents and the cursor: readers see the committed state, the replay records the rest', async (t) => {
    const h = await ledgerHarness(t, rig);
    await h.put([ind('12.0.0.1')], 'feed', 'clear');
    await h.run();
    const cursor = Number(await h.store().getCursor(sinkCursorName('siem')));
    await h.put(
      [{ ...ind('12.0.0.1'), modified: iso(NOW + 1000), description: 'changed' }, ind('12.0.0.2'), ind('12.0.0.3')],
      'feed',
      'clear',
      NOW + 1000,
    );
    // the process stops after the ledger's bulk and before the cursor document is written
    const store = h.store() as OpenSearchStore;
    const setCursor = store.setCursor.bind(store);
    store.setCursor = async () => {
      throw new Error('stopped before the cursor');
    };
    await assert.rejects(h.run(), /stopped before the cursor/);
    store.setCursor = setCursor;
    await h.reopen();
    assert.equal(Number(await h.store().getCursor(sinkCursorName('siem'))), cursor, 'the cursor did not move');
    const ahead = await countAhead(h.store() as OpenSearchStore, cursor);
    assert.equal(ahead, 3, 'the three documents were written, waiting for a cursor that was never committed');
    const a = await h.one('12.0.0.1');
    assert.deepEqual(
      [a.state, a.previous?.state],
      ['pending', 'present'],
      'the committed state, not the one written ahead',
    );
    const b = await h.one('12.0.0.2');
    assert.deepEqual([b.state, b.previous], ['pending', undefined]);
    const since = (await h.one('12.0.0.1')).previous?.since;
    await h.run({ now: () => NOW + 9000 });
    const again = await h.one('12.0.0.1');
    assert.deepEqual([again.state, again.since], ['present', since], 'still present since the first push');
    const stored = must((await h.store().query({ value: '12.0.0.1' })).objects[0], 'an object holding 12.0.0.1');
    assert.equal(again.seq, (await h.store().getEntry(stored.id))?.seq, 'the sequence of the change delivered');
    for (const v of ['12.0.0.2', '12.0.0.3']) assert.deepEqual((await h.one(v)).since, iso(NOW + 9000));
  });
}

/** Ledger documents of sink `siem` whose cursor is beyond `cursor` (read from the index itself). */
async function countAhead(store: OpenSearchStore, cursor: number): Promise<number> {
  const client = (store as unknown as { client: import('@opensearch-project/opensearch').Client }).client;
  const index = `${prefixes.get(store)}-ledger`;
  await client.indices.refresh({ index });
  const r = await client.count({
    index,
    body: { query: { bool: { filter: [{ term: { s: 'siem' } }, { exists: { field: 'k' } }] } } } as never,
  });
  const all = (r.body as { count: number }).count;
  const s = await client.search({ index, body: { size: 100, query: { term: { s: 'siem' } } } as never });
  const hits = (s.body as { hits: { hits: { _source: { c?: number; k?: string } }[] } }).hits.hits;
  assert.equal(hits.filter((x) => x._source.k !== undefined).length, all);
  return hits.filter((x) => (x._source.c ?? 0) > cursor).length;
}
