/**
 * CPU profile of batch lookups (docs/performance.md): fills a store with N synthetic indicators,
 * serves the lookup API (as W6: anonymous lookups, no rate limit, max_batch_size 1,000) and drives
 * `POST /api/v1/lookup` with 100 and then 1,000 values per request from bench/loadgen.ts (closed
 * loop, 8 connections) for SECS seconds each. With DIR, the server's CPU profile of each size's
 * run (not of the fill) is written there; summarise with `bench/cpu-top.ts DIR`.
 *   node --import tsx bench/profile-lookups.ts 200000 10 /tmp/prof
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { openEmbeddedStore } from '../src/store/embedded/index.js';
import { buildIndex } from '../src/lookup/index.js';
import { NOW, fill, tmp } from './ingest-kit.js';
import { syntheticValue, round } from './lib.js';
import { loadgen } from './loadgen-client.js';
import { startLookupServer } from './lookup-server.js';

const n = Number(process.argv[2] ?? 200_000);
const secs = Number(process.argv[3] ?? 10);
const profDir = process.argv[4];
const dir = tmp('profile-lookups');
const store = await openEmbeddedStore({ dataDir: join(dir, 'store') });
await fill(store, n);
const { index } = await buildIndex(store, { now: () => NOW });
const { app, base } = await startLookupServer({ index, store, server: { max_batch_size: 1000 } });
const url = `${base}/api/v1/lookup`;
// half hits, half misses, as W5/W6
const values = Array.from({ length: 1000 }, (_, i) =>
  i % 2 ? syntheticValue((i * 7919) % n).value : syntheticValue(n + i).value,
);
const out: Record<string, unknown>[] = [];
for (const size of [100, 1000]) {
  const body = join(dir, `batch-${size}.json`);
  writeFileSync(body, JSON.stringify({ values: values.slice(0, size) }));
  const session = new Session();
  if (profDir) {
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.start');
  }
  const r = await loadgen(['closed', url, '8', String(secs), body]);
  if (profDir) {
    const { profile } = await session.post('Profiler.stop');
    mkdirSync(profDir, { recursive: true });
    writeFileSync(join(profDir, `batch-${size}.cpuprofile`), JSON.stringify(profile));
    session.disconnect();
  }
  out.push({
    size,
    lookupsPerSec: Math.round(r.rps * size),
    p99ms: round(r.p99, 3),
    errors: r.errors,
    serverUsPerRequest: Math.round(r.serverUs),
    load: loadavg().map((x) => round(x, 2)),
  });
}
await app.close();
await store.close();
rmSync(dir, { recursive: true, force: true });
process.stdout.write(`${JSON.stringify(out)}\n`);
