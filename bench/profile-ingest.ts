/**
 * CPU profile of a CSV ingest (docs/performance.md). Writes an N-row synthetic CSV, serves it on
 * 127.0.0.1 and ingests it into a fresh store, in-thread (`--store in-thread`, the path before
 * ADR 0009) or on the writer thread (default). Run under `node --cpu-prof --cpu-prof-dir=DIR`:
 * each thread writes its own profile; `bench/cpu-top.ts DIR` prints the top self-time entries.
 *   node --cpu-prof --cpu-prof-dir=/tmp/prof --import tsx bench/profile-ingest.ts 200000 [in-thread]
 */
import { join } from 'node:path';
import { rmSync } from 'node:fs';
import { openEmbeddedStore, openThreadedStore } from '../src/store/embedded/index.js';
import { serveFile, round } from './lib.js';
import { CSV_COLUMNS, ingest, source, tmp, writeCsv } from './ingest-kit.js';

const n = Number(process.argv[2] ?? 200_000);
const variant = process.argv[3] === 'in-thread' ? 'in-thread' : 'thread';
const dir = tmp('profile');
const csv = join(dir, 'feed.csv');
await writeCsv(csv, n);
const { url, server } = await serveFile(csv);
const dataDir = join(dir, 'store');
const store = variant === 'thread' ? await openThreadedStore({ dataDir }) : await openEmbeddedStore({ dataDir });
const run = await ingest(store, source('csv', url, { columns: CSV_COLUMNS }));
await store.close();
server.close();
rmSync(dir, { recursive: true, force: true });
process.stdout.write(
  `${JSON.stringify({ variant, rows: n, created: run.sum.created, seconds: round(run.secs), rate: Math.round(run.sum.created / run.secs), cpuSecondsPer1k: round((run.cpu / n) * 1000, 4) })}\n`,
);
