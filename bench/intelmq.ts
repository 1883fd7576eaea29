/**
 * IntelMQ as the in-run ingest peer: a CSV file through IntelMQ's own bots, file collector →
 * generic CSV parser → deduplicator → file output, each bot its own Python process as IntelMQ runs
 * them, with Redis as the broker and the deduplicator's cache (bench/redis.ts). Installed by
 * scripts/peers.sh into .cache/peers; when it is absent the caller reports a row saying so.
 *
 * The bots are started first on an empty input directory and their start-up CPU is taken as the
 * baseline; then the file is moved in and the run ends when every event has reached the output
 * file (or the queues are empty and the output stops growing). CPU is each process's own user +
 * system time from /proc, bots and Redis reported apart.
 *
 * Two departures from a stock installation, neither changing the work per event: the bots refuse
 * to run as root (IntelMQ drops to an `intelmq` user this machine lacks), so the wrapper that
 * starts each bot turns that check off; and `malware.hash.sha256` gets a 64-hex-digit regex in
 * this run's harmonization so that the parser's column alternatives (`source.ip|source.fqdn|
 * malware.hash.sha256|source.url`) route each value of the mixed column to its own field.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PEERS_CACHE, RespClient, startRedis, type RedisServer } from './redis.js';
import { must } from '../test/helpers/must.js';

const VENV = join(PEERS_CACHE, 'intelmq-venv');
const PYTHON = join(VENV, 'bin', 'python');
const CLK_TCK = 100;

export function findIntelmq(): { python: string; harmonization: string; version: string } | { skip: string } {
  if (!existsSync(PYTHON)) return { skip: `no IntelMQ under ${VENV}: run bash scripts/peers.sh` };
  const lib = join(VENV, 'lib');
  const py = readdirSync(lib).find((d) => d.startsWith('python'));
  const pkg = py && join(lib, py, 'site-packages', 'intelmq');
  if (!pkg || !existsSync(join(pkg, 'etc', 'harmonization.conf')))
    return { skip: `IntelMQ under ${VENV} is incomplete: run bash scripts/peers.sh` };
  const version = /__version_info__ = \((\d+), (\d+), (\d+)/.exec(readFileSync(join(pkg, 'version.py'), 'utf8'));
  return {
    python: PYTHON,
    harmonization: join(pkg, 'etc', 'harmonization.conf'),
    version: version ? `${version[1]}.${version[2]}.${version[3]}` : 'unknown',
  };
}

/** CPU seconds (user + system) a live process has used, from /proc/PID/stat. */
export function procCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / CLK_TCK;
}

export interface IntelmqRun {
  version: string;
  rows: number;
  events: number;
  seconds: number;
  botCpu: number;
  redisCpu: number;
  perBot: Record<string, number>;
  timedOut: boolean;
}

const QUEUES = ['csv-parser-queue', 'deduplicator-queue', 'file-output-queue'];

const BOTS: { id: string; module: string; parameters: (dir: string, redisPort: number) => Record<string, unknown> }[] =
  [
    {
      id: 'file-output',
      module: 'intelmq.bots.outputs.file.output',
      parameters: (dir) => ({ file: join(dir, 'output', 'events.txt'), hierarchical_output: false }),
    },
    {
      id: 'deduplicator',
      module: 'intelmq.bots.experts.deduplicator.expert',
      parameters: (_dir, port) => ({
        destination_queues: { _default: ['file-output-queue'] },
        filter_keys: 'raw,time.observation',
        filter_type: 'blacklist',
        redis_cache_db: 6,
        redis_cache_host: '127.0.0.1',
        redis_cache_port: port,
        redis_cache_ttl: 86400,
      }),
    },
    {
      id: 'csv-parser',
      module: 'intelmq.bots.parsers.generic.parser_csv',
      parameters: () => ({
        destination_queues: { _default: ['deduplicator-queue'] },
        // the bench CSV: type,value,first_seen,last_seen,tags
        columns: [
          '__IGNORE__',
          'source.ip|source.fqdn|malware.hash.sha256|source.url',
          'time.source',
          '__IGNORE__',
          'extra.tags',
        ],
        skip_header: true,
        type: 'blacklist',
        delimiter: ',',
      }),
    },
    {
      id: 'file-collector',
      module: 'intelmq.bots.collectors.file.collector_file',
      parameters: (dir) => ({
        destination_queues: { _default: ['csv-parser-queue'] },
        path: join(dir, 'input'),
        postfix: '.csv',
        delete_file: true,
        rate_limit: 1,
        name: 'bench',
        provider: 'bench',
      }),
    },
  ];

function writeConfig(dir: string, harmonization: string, redisPort: number): void {
  for (const d of ['etc', 'input', 'output', 'var/log', 'var/run', 'var/lib/bots'])
    mkdirSync(join(dir, d), { recursive: true });
  const h = JSON.parse(readFileSync(harmonization, 'utf8')) as { event: Record<string, Record<string, unknown>> };
  h.event['malware.hash.sha256'] = { ...h.event['malware.hash.sha256'], regex: '^[0-9a-fA-F]{64}$' };
  writeFileSync(join(dir, 'etc', 'harmonization.conf'), JSON.stringify(h));
  const runtime: Record<string, unknown> = {
    global: {
      destination_pipeline_broker: 'redis',
      destination_pipeline_host: '127.0.0.1',
      destination_pipeline_port: redisPort,
      source_pipeline_broker: 'redis',
      source_pipeline_host: '127.0.0.1',
      source_pipeline_port: redisPort,
      statistics_host: '127.0.0.1',
      statistics_port: redisPort,
      logging_level: 'WARNING',
      logging_path: join(dir, 'var', 'log'),
      error_dump_message: true,
      error_log_message: false,
    },
  };
  for (const b of BOTS)
    runtime[b.id] = {
      bot_id: b.id,
      module: b.module,
      enabled: true,
      run_mode: 'continuous',
      group:
        b.id === 'file-collector'
          ? 'Collector'
          : b.id === 'csv-parser'
            ? 'Parser'
            : b.id === 'file-output'
              ? 'Output'
              : 'Expert',
      parameters: b.parameters(dir, redisPort),
    };
  // JSON is YAML: IntelMQ reads it as its runtime.yaml
  writeFileSync(join(dir, 'etc', 'runtime.yaml'), JSON.stringify(runtime, null, 1));
}

function countLines(file: string): number {
  if (!existsSync(file)) return 0;
  const b = readFileSync(file);
  let n = 0;
  for (let i = b.indexOf(10); i >= 0; i = b.indexOf(10, i + 1)) n++;
  return n;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs `csv` (a file of `rows` data rows) through the IntelMQ pipeline in `dir`; bounded by `timeoutSecs`. */
export async function runIntelmq(
  found: { python: string; harmonization: string; version: string },
  redis: { bin: string; env: NodeJS.ProcessEnv },
  csv: string,
  rows: number,
  dir: string,
  timeoutSecs: number,
): Promise<IntelmqRun> {
  mkdirSync(dir, { recursive: true });
  let server: RedisServer | undefined;
  const procs: { id: string; proc: ChildProcess }[] = [];
  try {
    server = await startRedis(redis, dir);
    writeConfig(dir, found.harmonization, server.port);
    for (const b of BOTS) {
      const wrapper = `import sys\nimport intelmq.lib.utils as u\nu.drop_privileges = lambda: True\nfrom ${b.module} import BOT\nBOT.run()`;
      const proc = spawn(found.python, ['-c', wrapper, b.id], {
        env: { ...process.env, INTELMQ_ROOT_DIR: dir },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let err = '';
      proc.stderr?.on('data', (d) => (err = (err + d).slice(-2000)));
      proc.once('exit', (code) => {
        if (code) process.stderr.write(`intelmq bot ${b.id} exited with ${code}: ${err}\n`);
      });
      procs.push({ id: b.id, proc });
    }
    // the bots' start-up (Python, imports, Redis connections) is not part of the per-event cost
    let last = -1;
    for (let i = 0; i < 60; i++) {
      await sleep(500);
      const now = procs.reduce((s, p) => s + procCpuSeconds(must(p.proc.pid, 'p.proc.pid')), 0);
      if (Math.abs(now - last) < 0.02) break;
      last = now;
    }
    const base = new Map(procs.map((p) => [p.id, procCpuSeconds(must(p.proc.pid, 'p.proc.pid'))]));
    const redisBase = procCpuSeconds(must(server.proc.pid, 'server.proc.pid'));
    const client = await RespClient.connect(server.port);
    await client.command(['SELECT', '2']);
    const out = join(dir, 'output', 'events.txt');
    const t0 = performance.now();
    renameSync(csv, join(dir, 'input', 'feed.csv'));
    let events = 0;
    let stable = 0;
    let timedOut = false;
    for (;;) {
      await sleep(250);
      const n = countLines(out);
      let queued = 0;
      for (const q of QUEUES)
        queued += Number(await client.command(['LLEN', q])) + Number(await client.command(['LLEN', `${q}-internal`]));
      stable = n === events && queued === 0 && n > 0 ? stable + 1 : 0;
      events = n;
      if (events >= rows || stable >= 8) break;
      if ((performance.now() - t0) / 1000 > timeoutSecs) {
        timedOut = true;
        break;
      }
    }
    // an early stop ends at the last change, not at the end of the quiet spell that confirmed it
    const seconds = (performance.now() - t0) / 1000 - (stable >= 8 ? 2 : 0);
    const perBot: Record<string, number> = {};
    for (const p of procs) perBot[p.id] = procCpuSeconds(must(p.proc.pid, 'p.proc.pid')) - (base.get(p.id) ?? 0);
    const redisCpu = procCpuSeconds(must(server.proc.pid, 'server.proc.pid')) - redisBase;
    client.close();
    return {
      version: found.version,
      rows,
      events,
      seconds,
      botCpu: Object.values(perBot).reduce((a, b) => a + b, 0),
      redisCpu,
      perBot,
      timedOut,
    };
  } finally {
    for (const p of procs) if (p.proc.exitCode === null) p.proc.kill('SIGTERM');
    await Promise.all(
      procs.map((p) => (p.proc.exitCode === null ? new Promise((r) => p.proc.once('exit', r)) : undefined)),
    );
    await server?.stop();
  }
}
