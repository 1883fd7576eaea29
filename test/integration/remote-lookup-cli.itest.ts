/**
 * `stixgate lookup` against the OpenSearch store (no daemon): the values' candidates are asked of
 * the cluster in one search, never the whole store (src/cli-store.ts, src/lookup/remote). The CLI
 * runs as a child process through a loopback proxy that records every `_search` and its hits.
 * Also: the negative filter's background rebuild when it goes stale, built from the real store.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StixObject } from '../../src/core/stix.js';
import { IndexFollower, type LookupResult } from '../../src/lookup/index.js';
import { FilterKeeper } from '../../src/lookup/remote/filter-keeper.js';
import { RemoteLookup } from '../../src/lookup/remote/remote-lookup.js';
import { createLogger } from '../../src/telemetry/logger.js';
import { Metrics } from '../../src/telemetry/metrics.js';
import type { IngestItem } from '../../src/store/contract.js';
import { OpenSearchStore } from '../../src/store/opensearch/index.js';
import { runCli } from '../helpers/daemon-proc.js';
import { must } from '../helpers/must.js';
import { T0, indicator } from '../lookup/fixtures.js';
import { FaultProxy, OPENSEARCH_URL, SKIP_REASON, storeOptions } from './opensearch-helpers.js';

/** Indicators stored besides the three the lookups match: a whole-store read would fetch them all. */
const FILLER = 300;

function item(n: number, pattern: string): IngestItem {
  const { x_stixgate: _x, ...object } = indicator({ n, pattern });
  return { object: object as StixObject, source: 'feed_a' };
}

describe('stixgate lookup and the filter rebuild on the OpenSearch store', { skip: SKIP_REASON }, () => {
  it('finds an exact value, a parent domain and a CIDR, misses an absent value, with one search for the candidates', async () => {
    const opts = storeOptions();
    const store = new OpenSearchStore(opts);
    await store.open();
    const proxy = new FaultProxy();
    const dir = mkdtempSync(join(tmpdir(), 'stixgate-cli-lookup-'));
    try {
      const items = [
        item(1, "[ipv4-addr:value = '203.0.113.5']"),
        item(2, "[domain-name:value = 'evil.example']"),
        item(3, "[ipv4-addr:value = '198.18.0.0/15']"),
      ];
      for (let i = 0; i < FILLER; i++) items.push(item(100 + i, `[ipv4-addr:value = '10.50.${i >> 8}.${i & 255}']`));
      assert.deepEqual((await store.upsert(items, { now: T0 })).rejected, []);
      const refreshed = await fetch(`${must(OPENSEARCH_URL, 'OPENSEARCH_URL')}/${opts.index_prefix}*/_refresh`, {
        method: 'POST',
      });
      assert.equal(refreshed.status, 200);

      const node = await proxy.start();
      const cfg = join(dir, 'stixgate.yaml');
      writeFileSync(
        cfg,
        `data_dir: ${join(dir, 'data')}
store: { type: opensearch, node: "${node}", index_prefix: ${opts.index_prefix}, number_of_replicas: 0 }
`,
      );
      const run = await runCli([
        'lookup',
        '--config',
        cfg,
        '--json',
        '203.0.113.5',
        'www.a.evil.example',
        '198.19.4.4',
        'absent.example.org',
      ]);
      assert.equal(run.status, 1, `exit 1: not every value matched\n${run.stderr}`);
      const { results } = JSON.parse(run.stdout) as { results: LookupResult[] };
      assert.equal(results.length, 4);
      const [exact, parent, cidr, miss] = results;
      assert.equal(exact?.matched, true);
      assert.equal(exact?.indicators[0]?.matched_value, '203.0.113.5');
      assert.equal(parent?.matched, true);
      assert.equal(parent?.indicators[0]?.matched_value, 'evil.example');
      assert.equal(cidr?.matched, true);
      assert.equal(cidr?.indicators[0]?.matched_value, '198.18.0.0/15');
      assert.equal(miss?.matched, false);

      // one terms query carried every value's candidates; only the three matching indicators came back
      const candidateSearches = proxy.searches.filter((s) => s.body.includes('"terms":{"values"'));
      assert.equal(candidateSearches.length, 1, JSON.stringify(proxy.searches.map((s) => s.path)));
      const fetched = proxy.searches.reduce((n, s) => n + s.hits, 0);
      assert.equal(fetched, 3, `documents fetched by every search (${FILLER + 3} stored)`);
    } finally {
      await proxy.stop();
      rmSync(dir, { recursive: true, force: true });
      await store.destroy();
      await store.close();
    }
  });

  it('a filter gone stale is rebuilt from the store in the background, without the revoked values', async () => {
    const store = new OpenSearchStore(storeOptions());
    await store.open();
    const dir = mkdtempSync(join(tmpdir(), 'stixgate-rebuild-'));
    try {
      const items = Array.from({ length: 30 }, (_, i) => item(i + 1, `[ipv4-addr:value = '10.9.0.${i + 1}']`));
      assert.deepEqual((await store.upsert(items, { now: T0 })).rejected, []);
      const metrics = new Metrics({ defaults: false });
      const remote = new RemoteLookup(store, { now: () => T0, cacheBytes: 1 << 20, metrics });
      // capacity 100, share 0.1: more than 10 stale values start a rebuild
      const keeper = new FilterKeeper({
        dataDir: dir,
        store,
        shape: { capacity: 100, fpRate: 0.001 },
        logger: createLogger({ level: 'silent' }),
        intervalMs: 0,
        rebuildStaleShare: 0.1,
        metrics,
      });
      const { seq } = await keeper.open(remote);
      await keeper.building;
      const first = must(remote.filter, 'the first filter');
      assert.equal(first.added, 30);
      const follower = new IndexFollower(store, remote, { from: seq, now: () => T0 });
      keeper.start(remote, follower);
      const revoked = items.slice(0, 11).map((it) => ({
        ...it,
        object: { ...it.object, revoked: true, modified: '2026-01-05T00:00:00.000Z' } as StixObject,
      }));
      assert.deepEqual((await store.upsert(revoked, { now: T0 })).rejected, []);
      await follower.tick();
      assert.equal(first.stale, 11);
      await keeper.building;
      const rebuilt = must(remote.filter, 'the rebuilt filter');
      assert.notEqual(rebuilt, first);
      assert.equal(rebuilt.added, 19, 'only the live values');
      assert.equal(
        (await must(metrics.registry.getSingleMetric('stixgate_lookup_filter_rebuilds_total'), 'rebuilds').get())
          .values[0]?.value,
        1,
      );
      const trips = remote.counters.roundTrips;
      assert.equal((await remote.lookup('10.9.0.1', T0, 'red')).matched, false);
      assert.equal(remote.counters.roundTrips, trips, 'a revoked value is a filter miss again');
      assert.equal((await remote.lookup('10.9.0.20', T0, 'red')).matched, true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await store.destroy();
      await store.close();
    }
  });
});
