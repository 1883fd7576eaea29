/**
 * `npm run bench`: runs each workload in its own process and prints one table.
 * STIXGATE_BENCH_SCALE (default 1) scales the data sizes; `npm run bench -- w2` runs one workload.
 * `soak` runs only when named: `npm run bench -- soak --minutes 10` (30 minutes by default).
 * Results are also written to bench/out/results.json.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Row } from './lib.js';
import { must } from '../test/helpers/must.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const scale = Number(process.env.STIXGATE_BENCH_SCALE ?? 1);
const only = process.argv.slice(2);
const minutesAt = only.indexOf('--minutes');
if (minutesAt >= 0) process.env.STIXGATE_BENCH_MINUTES = only.splice(minutesAt, 2)[1];
// w14 needs STIXGATE_OPENSEARCH_URL (scripts/opensearch.sh start) and reports a skipped row otherwise
const all = [
  'w1w4',
  'w2',
  'w3',
  'lookups',
  'w7',
  'xml',
  'push',
  'pushmem',
  'w12',
  'w14',
  'w14c',
  'a9',
  'redos',
  'warninglists',
  'w15',
  'ledger',
  'ledgeros',
  'ledgerpush',
  'history',
  'reconcile',
  'ingestmem',
  // IntelMQ and Redis side by side (scripts/peers.sh installs them; rows say so when they are absent)
  'peers',
];
// run only when named: too long or too large for the default pass
const onDemand = ['soak', 'mapshard', 'capacity'];
const names = only.length ? [...all, ...onDemand].filter((n) => only.includes(n)) : all;

const rows: Row[] = [];
let failed = 0;
for (const name of names) {
  process.stderr.write(`bench: ${name} (scale ${scale})…\n`);
  const r = spawnSync(
    process.execPath,
    ['--expose-gc', '--max-old-space-size=8192', '--import', 'tsx', join(here, 'workloads.ts'), name, String(scale)],
    {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
      maxBuffer: 64 * 1024 * 1024,
      env: { ...process.env, STIXGATE_LOG_LEVEL: 'silent' },
    },
  );
  if (r.status !== 0) {
    failed++;
    process.stderr.write(`bench: ${name} failed with status ${r.status}\n`);
    continue;
  }
  rows.push(...(JSON.parse(must(r.stdout.trim().split('\n').pop(), "r.stdout.trim().split('\\n').pop()")) as Row[]));
}

const cols: (keyof Row)[] = [
  'workload',
  'what',
  'items',
  'seconds',
  'rate',
  'p50_ms',
  'p99_ms',
  'p999_ms',
  'peak_rss_mb',
  'cpu_s_per_1k',
  'target',
  'ratio',
  'note',
];
const present = cols.filter((c) => rows.some((r) => r[c] !== undefined));
const lines = [`| ${present.join(' | ')} |`, `|${present.map(() => '---').join('|')}|`];
for (const r of rows) lines.push(`| ${present.map((c) => (r[c] === undefined ? '' : String(r[c]))).join(' | ')} |`);
process.stdout.write(`\nstixgate benchmarks (scale ${scale}, node ${process.version})\n\n${lines.join('\n')}\n`);
mkdirSync(join(here, 'out'), { recursive: true });
writeFileSync(join(here, 'out', 'results.json'), JSON.stringify({ scale, node: process.version, rows }, null, 2));
process.exit(failed ? 1 : 0);
