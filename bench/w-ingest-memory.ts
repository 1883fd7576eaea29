/**
 * `npm run bench -- ingestmem`: peak memory of `stixgate ingest` against the file's size (issue 21:
 * memory bounded by the work in flight, not by the file). The same synthetic CSV feed at 1M and 4M
 * rows (times the scale), each ingested by the CLI in its own process into a fresh data directory.
 * bench/memory-probe.mjs reports each thread's peak V8 heap; the process's peak RSS comes from
 * the kernel (getrusage). Target: the 4M run's peak RSS within 10% of the 1M run's.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { round, type Row } from './lib.js';
import { tmp, writeCsv } from './ingest-kit.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const COLUMNS =
  'columns={value: value, type_column: type, type_map: {ip: ipv4-addr, domain: domain-name, url: url, sha256: file}, first_seen: first_seen, last_seen: last_seen, labels: [tags]}';
const load = (): string =>
  loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');

interface Peaks {
  heapUsedMb: number;
  externalMb: number;
  arrayBuffersMb: number;
  maxRssMb?: number;
}

interface Measured {
  rows: number;
  created: number;
  seconds: number;
  main: Peaks;
  writer: Peaks;
  maxRssMb: number;
  load: string;
}

function ingestOnce(dir: string, rows: number, csv: string): Measured {
  const probe = join(dir, `probe-${rows}`);
  const load0 = load();
  const t0 = performance.now();
  const r = spawnSync(
    process.execPath,
    [
      '--import',
      'tsx',
      '--import',
      join(root, 'bench', 'memory-probe.mjs'),
      join(root, 'src', 'cli.ts'),
      'ingest',
      csv,
      '--from',
      'csv',
      '--data-dir',
      join(dir, `store-${rows}`),
      '--quiet',
      '-o',
      `max_feed_bytes=${8 * 1024 ** 3}`,
      '-o',
      COLUMNS,
    ],
    { cwd: root, encoding: 'utf8', env: { ...process.env, STIXGATE_MEMORY_PROBE: probe }, maxBuffer: 1 << 24 },
  );
  const seconds = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`ingestmem: stixgate ingest of ${rows} rows exited ${r.status}: ${r.stderr}`);
  const counts = JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as { created?: number };
  const read = (suffix: string): Peaks => JSON.parse(readFileSync(`${probe}.${suffix}`, 'utf8')) as Peaks;
  const main = read('main');
  const writers = readdirSync(dir).filter((f) => f.startsWith(`probe-${rows}.worker`));
  const writer = writers
    .map((f) => read(f.slice(`probe-${rows}.`.length)))
    .reduce((a, b) => (a.heapUsedMb >= b.heapUsedMb ? a : b), { heapUsedMb: 0, externalMb: 0, arrayBuffersMb: 0 });
  return {
    rows,
    created: counts.created ?? 0,
    seconds,
    main,
    writer,
    maxRssMb: main.maxRssMb ?? 0,
    load: `${load0} → ${load()}`,
  };
}

export async function runIngestMemory({ scale }: { scale: number }): Promise<Row[]> {
  const small = Math.max(10_000, Math.round(1_000_000 * scale));
  const dir = tmp('ingestmem');
  const out: Row[] = [];
  try {
    const runs: Measured[] = [];
    for (const rows of [small, small * 4]) {
      const csv = join(dir, `feed-${rows}.csv`);
      await writeCsv(csv, rows);
      runs.push(ingestOnce(dir, rows, csv));
      rmSync(csv, { force: true });
      rmSync(join(dir, `store-${rows}`), { recursive: true, force: true });
    }
    for (const m of runs)
      out.push({
        workload: 'INGESTMEM',
        what: `stixgate ingest, ${m.rows} CSV rows, fresh store`,
        items: m.created,
        seconds: round(m.seconds),
        rate: Math.round(m.created / m.seconds),
        peak_rss_mb: m.maxRssMb,
        note: `peak heap: event loop ${m.main.heapUsedMb} MB, writer ${m.writer.heapUsedMb} MB; load ${m.load}`,
      });
    const [a, b] = runs;
    if (a && b)
      out.push({
        workload: 'INGESTMEM',
        what: `peak RSS at ${b.rows} rows against ${a.rows}`,
        target: '≤ 1.10',
        ratio: `${round(b.maxRssMb / a.maxRssMb, 3)}`,
      });
  } finally {
    if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
  }
  return out;
}
