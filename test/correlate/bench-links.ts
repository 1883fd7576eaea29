// Shared correlation index micro-benchmark (not part of the test suite), against the node of
// scripts/opensearch.sh (STIXGATE_OPENSEARCH_URL):
//   node --import tsx test/correlate/bench-links.ts [N=20000] [maxFanout=20]
// Ingests N indicators (bench-data.ts) into a fresh OpenSearch store, then on the same change log
// and in the same process measures: the embedded SQLite index's catch-up (what each instance did
// before), the lease holder's catch-up with publishing to <prefix>-links, a second instance's
// take-over (load of the links index instead of a replay), and related(depth 1) on both.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Correlator, SharedCorrelation } from '../../src/correlate/index.js';
import type { IngestItem } from '../../src/store/contract.js';
import { OpenSearchStore } from '../../src/store/opensearch/index.js';
import { storeOptions } from '../integration/opensearch-helpers.js';
import { benchObjects } from './bench-data.js';
import { sdo, sid } from './fixtures.js';

const N = Number(process.argv[2] ?? 20_000);
const CAP = Number(process.argv[3] ?? 20);
const NOW = Date.parse('2026-03-01T00:00:00.000Z');
const dir = mkdtempSync(join(tmpdir(), 'stixgate-bench-links-'));
const store = new OpenSearchStore(storeOptions({ refresh_interval: '1s' }));
await store.open();

const items: IngestItem[] = Array.from({ length: 100 }, (_, i) => ({
  object: sdo('malware', i + 1, `family ${i + 1}`),
  source: 'bench',
}));
for (let i = 0; i < N; i++) for (const object of benchObjects(i, N)) items.push({ object, source: 'bench' });
for (let i = 0; i < items.length; i += 5000) await store.upsert(items.slice(i, i + 5000), { now: NOW });

/** CPU seconds (user + system) and wall seconds of `fn`. */
async function measure<T>(fn: () => Promise<T>): Promise<{ r: T; cpu: number; wall: number }> {
  const c = process.cpuUsage();
  const t = performance.now();
  const r = await fn();
  const d = process.cpuUsage(c);
  return { r, cpu: (d.user + d.system) / 1e6, wall: (performance.now() - t) / 1000 };
}
const perM = (s: number, n: number) => ((s / n) * 1e6).toFixed(1);

const sqlite = new Correlator({ dataDir: join(dir, 'sqlite'), maxFanout: CAP });
const base = await measure(() => sqlite.catchUp(store));
const changes = base.r.applied;
const instance = (holder: string) =>
  new SharedCorrelation({
    store,
    links: store.links(),
    dir: join(dir, holder),
    holder,
    leaseTtlMs: 60_000,
    maxFanout: CAP,
    pageSize: 2000,
    now: Date.now,
  });
const a = instance('a');
const shared = await measure(() => a.catchUp());
await a.close(); // releases the lease
const b = instance('b');
const takeover = await measure(() => b.catchUp());
await store.links().refresh();

console.log(`indicators ${N}, change-log entries ${changes}, fan-out cap ${CAP}`);
console.log(
  `embedded (SQLite) catch-up: ${base.cpu.toFixed(2)} CPU-s, ${base.wall.toFixed(2)} s = ${perM(base.cpu, changes)} CPU-s per million changes`,
);
console.log(
  `lease holder (SQLite + publish): ${shared.cpu.toFixed(2)} CPU-s, ${shared.wall.toFixed(2)} s = ${perM(shared.cpu, changes)} CPU-s per million changes; ${a.writer.counts.written} documents in ${a.writer.counts.publishes} publishes`,
);
console.log(
  `take-over by another instance: ${takeover.cpu.toFixed(2)} CPU-s, ${takeover.wall.toFixed(2)} s, ${b.writer.counts.loaded} documents loaded, ${b.writer.counts.applied} changes applied`,
);

const Q = 200;
const ids = Array.from({ length: Q }, (_, q) => sid('indicator', 1 + ((q * 37) % N)));
const q1 = await measure(async () => {
  for (const id of ids) await sqlite.related(store, id, { now: NOW });
});
const q2 = await measure(async () => {
  for (const id of ids) await b.related(store, id, { now: NOW });
});
console.log(
  `related(depth 1), ${Q} queries: embedded ${((q1.wall / Q) * 1000).toFixed(2)} ms each, shared ${((q2.wall / Q) * 1000).toFixed(2)} ms each`,
);

await b.close();
await sqlite.close();
await store.destroy();
await store.close();
rmSync(dir, { recursive: true, force: true });
