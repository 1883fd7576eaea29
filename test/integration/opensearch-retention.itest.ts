import { it, test } from 'node:test';
import assert from 'node:assert/strict';
import { OpenSearchStore } from '../../src/store/opensearch/index.js';
import type { Store } from '../../src/store/contract.js';
import { retentionJob } from '../../src/daemon-retention.js';
import { runWithLease } from '../../src/pipeline/lease.js';
import { DEFAULT_RETENTION } from '../../src/store/retention.js';
import { Metrics } from '../../src/telemetry/metrics.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { NOW, ind, iso } from '../delivery/sink-run-kit.js';
import { runRetentionCases, type RetentionRig } from '../store/retention-cases.js';
import { OPENSEARCH_URL, SKIP_REASON, freshStore, storeOptions } from './opensearch-helpers.js';
import { must } from '../helpers/must.js';

/**
 * Retention and index settings on a real node: the shared retention cases, the `retention` lease
 * (only its holder deletes), and the shard and replica settings of every index the store creates.
 */
const rig: RetentionRig = {
  open: async () => {
    const store = new OpenSearchStore(storeOptions());
    await store.open();
    return store;
  },
  cleanup: async (store) => {
    await (store as OpenSearchStore).destroy();
    await store.close();
  },
};

const DAY = 86_400_000;

async function settingsOf(index: string): Promise<{ shards: string; replicas: string }> {
  const r = await fetch(`${must(OPENSEARCH_URL, 'STIXGATE_OPENSEARCH_URL')}/${index}/_settings`);
  const body = (await r.json()) as Record<
    string,
    { settings: { index: { number_of_shards: string; number_of_replicas: string } } }
  >;
  const s = must(body[index], `settings of ${index}`).settings.index;
  return { shards: s.number_of_shards, replicas: s.number_of_replicas };
}

/** A daemon instance as far as the retention job sees it: its own holder name and injected clock. */
function instance(store: Store, holder: string, now: () => number) {
  const metrics = new Metrics({ defaults: false });
  const held: string[] = [];
  const host = {
    store: () => store,
    now,
    metrics,
    logger: silentLogger(),
    lastSummary: new Map<string, Record<string, unknown>>(),
    loaded: () => ({ config: { store: { retention: DEFAULT_RETENTION }, sinks: {} } }),
    withLease: (name: string, signal: AbortSignal, job: (s: AbortSignal) => Promise<void>) =>
      runWithLease(
        {
          store,
          name,
          holder,
          ttlMs: 60_000,
          now,
          logger: silentLogger(),
          signal,
          onHeldElsewhere: () => held.push(name),
        },
        job,
      ),
  };
  return { job: retentionJob(host), host, held };
}

if (SKIP_REASON) it('retention: opensearch', { skip: SKIP_REASON }, () => {});
else {
  runRetentionCases('opensearch', rig);

  test('opensearch: only the holder of the retention lease deletes; another instance takes over once it expires', async (t) => {
    const { store, cleanup } = await freshStore();
    t.after(cleanup);
    const x = ind('198.51.100.77', { valid_until: iso(NOW + 1000) });
    await store.upsert([{ object: x, source: 'feed', tlp: 'clear' }], { now: NOW });
    assert.equal(await store.expire(NOW + 2000), 1);
    let clock = NOW + 40 * DAY;
    const a = instance(store, 'instance-a', () => clock);
    const b = instance(store, 'instance-b', () => clock);
    // instance a holds the lease (as while its own run is going)
    assert.equal(await store.acquireLease('retention', 'instance-a', 60_000, clock), true);
    await b.job.run(new AbortController().signal);
    assert.deepEqual(b.held, ['retention']);
    assert.ok(await store.get(x.id), 'the instance without the lease deleted nothing');
    assert.equal(b.host.lastSummary.get('retention'), undefined);
    // a's lease runs out without renewal (a died): b takes the job over
    clock += 60_001;
    await b.job.run(new AbortController().signal);
    assert.equal(await store.get(x.id), undefined);
    assert.deepEqual(b.host.lastSummary.get('retention'), { expired: 1, revoked: 0, ledgerRows: 0 });
    const text = await b.host.metrics.registry.metrics();
    assert.match(text, /stixgate_store_retention_deleted_total\{state="expired"\} 1/);
    assert.equal(a.held.length, 0);
  });

  test('opensearch: number_of_shards and number_of_replicas reach every index; replicas follow the configuration at the next start', async (t) => {
    const opts = storeOptions({ number_of_shards: 3, number_of_replicas: 0 });
    const first = new OpenSearchStore(opts);
    await first.open();
    t.after(async () => {
      await first.destroy().catch(() => {});
      await first.close();
    });
    const p = opts.index_prefix;
    assert.deepEqual(await settingsOf(`${p}-objects`), { shards: '3', replicas: '0' });
    assert.deepEqual(await settingsOf(`${p}-ledger`), { shards: '3', replicas: '0' });
    assert.deepEqual(await settingsOf(`${p}-meta`), { shards: '1', replicas: '0' }, 'the meta index keeps one shard');
    // a restart with more replicas applies them to the existing indices (a one-node cluster leaves them unassigned)
    const second = new OpenSearchStore({ ...opts, number_of_replicas: 1 });
    await second.open();
    t.after(() => second.close());
    for (const suffix of ['objects', 'ledger', 'meta'])
      assert.equal((await settingsOf(`${p}-${suffix}`)).replicas, '1', `${suffix}: replicas applied`);
    assert.deepEqual(second.shardMismatch, [], 'same shard count: nothing to report');
    // a different shard count cannot be applied to an existing index: reported, not silently ignored
    const third = new OpenSearchStore({ ...opts, number_of_shards: 2, number_of_replicas: 0 });
    await third.open();
    t.after(() => third.close());
    assert.deepEqual(third.shardMismatch, [
      { index: `${p}-objects`, configured: 2, actual: 3 },
      { index: `${p}-ledger`, configured: 2, actual: 3 },
    ]);
  });
}
