// Correlation micro-benchmark (not part of the test suite):
//   node --import tsx test/correlate/bench-correlate.ts [N=100000] [maxFanout=20]
// Ingests N indicators (IPv4 with shared and hot values, CIDRs, domains, URLs on those domains,
// file hashes indicating malware, IPv6) into the embedded store in batches of 10k, lets the
// correlator catch up after each batch, and prints the catch-up rate per batch (flat = cost per
// change does not grow with the index), correlation.db bytes per indicator and cap hit counts.
import { readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Correlator } from '../../src/correlate/index.js';
import { openEmbeddedStore } from '../../src/store/embedded/index.js';
import type { IngestItem } from '../../src/store/contract.js';
import { sdo, sid } from './fixtures.js';
import { benchObjects } from './bench-data.js';

const N = Number(process.argv[2] ?? 100_000);
const CAP = Number(process.argv[3] ?? 20);
const BATCH = 10_000;
const NOW = Date.parse('2026-03-01T00:00:00.000Z');
const dir = join(tmpdir(), `stixgate-bench-correlate-${process.pid}`);
rmSync(dir, { recursive: true, force: true });

const objectsFor = (i: number) => benchObjects(i, N);

function dirBytes(d: string, prefix: string): number {
  let n = 0;
  for (const f of readdirSync(d)) if (f.startsWith(prefix)) n += statSync(join(d, f)).size;
  return n;
}

const store = await openEmbeddedStore({ dataDir: join(dir, 'store') });
const correlator = new Correlator({ dataDir: dir, maxFanout: CAP });
await store.upsert(
  Array.from({ length: 100 }, (_, i) => ({ object: sdo('malware', i + 1, `family ${i + 1}`), source: 'bench' })),
  { now: NOW },
);
await correlator.catchUp(store);

let storeSecs = 0;
let corrSecs = 0;
let changes = 0;
const perBatch: number[] = [];
const growth: string[] = [];
for (let i = 0; i < N; i += BATCH) {
  const items: IngestItem[] = [];
  for (let j = i; j < Math.min(N, i + BATCH); j++)
    for (const object of objectsFor(j)) items.push({ object, source: 'bench' });
  let t = performance.now();
  await store.upsert(items, { now: NOW });
  storeSecs += (performance.now() - t) / 1000;
  t = performance.now();
  const r = await correlator.catchUp(store);
  const s = (performance.now() - t) / 1000;
  corrSecs += s;
  changes += r.applied;
  perBatch.push(Math.round(r.applied / s));
  if ([25_000, 50_000, 100_000, 200_000, 500_000].includes(i + BATCH)) {
    correlator.checkpoint();
    growth.push(`${i + BATCH}: ${Math.round(dirBytes(dir, 'correlation.db') / (i + BATCH))} B/indicator`);
  }
}
correlator.checkpoint();
const stats = correlator.stats();
const bytes = dirBytes(dir, 'correlation.db');
console.log(`indicators ${N}, change-log entries applied ${changes} (indicators + relationships), fan-out cap ${CAP}`);
console.log(
  `store upsert ${storeSecs.toFixed(2)} s (${Math.round(changes / storeSecs)}/s); correlator catch-up ${corrSecs.toFixed(2)} s (${Math.round(changes / corrSecs)} changes/s)`,
);
console.log(`catch-up rate per 10k batch: ${perBatch.join(' ')}`);
console.log(
  `first-half vs second-half rate: ${Math.round(avg(perBatch.slice(0, perBatch.length / 2)))} vs ${Math.round(avg(perBatch.slice(perBatch.length / 2)))}`,
);
console.log(
  `correlation.db ${(bytes / 1048576).toFixed(1)} MiB = ${Math.round(bytes / N)} B/indicator; growth ${growth.join(', ')}`,
);
console.log(`store dir ${(dirBytes(join(dir, 'store'), '') / 1048576).toFixed(1)} MiB`);
console.log(
  `nodes ${stats.nodes} values ${stats.values} edges ${stats.edges} value links ${stats.valueLinks} capped values ${stats.cappedValues}`,
);
console.log(`capped links by derivation: ${JSON.stringify(stats.capped)}`);

// query cost on the full index
const t = performance.now();
let found = 0;
const Q = 2000;
for (let q = 0; q < Q; q++) {
  const r = await correlator.related(store, sid('indicator', 1 + ((q * 37) % N)), { depth: 1, now: NOW });
  found += r?.related.length ?? 0;
}
console.log(
  `related(depth 1): ${Math.round(Q / ((performance.now() - t) / 1000))}/s, ${(found / Q).toFixed(1)} related on average`,
);
const t2 = performance.now();
for (let q = 0; q < 200; q++)
  await correlator.related(store, sid('indicator', 1 + ((q * 37) % N)), { depth: 2, now: NOW });
console.log(`related(depth 2): ${Math.round(200 / ((performance.now() - t2) / 1000))}/s`);
const hot = await correlator.related(store, sid('indicator', 1), { depth: 1, now: NOW });
console.log(`hot value holder: ${hot?.related.length} related, capped ${hot?.capped}`);

await correlator.close();
await store.close();
rmSync(dir, { recursive: true, force: true });

function avg(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
}
