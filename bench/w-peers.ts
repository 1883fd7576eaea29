/**
 * `npm run bench -- peers`: stixgate beside the peers it is measured against, in the same run.
 *  - Ingest: the same 100k-row mixed CSV (× scale) through IntelMQ (collector → CSV parser →
 *    deduplicator → file output, Redis broker; bench/intelmq.ts) and through `stixgate ingest`'s
 *    path (the writer-thread store), CPU-seconds per item for both (process CPU, not wall).
 *  - Lookup latency: stixgate single GET lookups against Redis GET of the same keys, both driven
 *    open-loop by bench/loadgen.ts at the same rate, three interleaved rounds, medians compared;
 *    a side answering below 95% of the offered rate is flagged OVERLOADED (its p99 is queueing).
 * STIXGATE_BENCH_PEERS=ingest or =latency runs one half.
 * Needs scripts/peers.sh (IntelMQ and Redis under .cache/peers); without them each row says what
 * is missing and how to install it.
 */
import { copyFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { openThreadedStore } from '../src/store/embedded/index.js';
import { buildIndex } from '../src/lookup/index.js';
import { CSV_COLUMNS, NOW, fill, ingest, source, tmp, writeCsv } from './ingest-kit.js';
import { round, syntheticValue, type Row } from './lib.js';
import { findIntelmq, runIntelmq } from './intelmq.js';
import { findRedis, RespClient, startRedis } from './redis.js';
import { loadgen, type LoadgenResult } from './loadgen-client.js';
import { must } from '../test/helpers/must.js';
import { startLookupServer } from './lookup-server.js';

const load = (): string =>
  `load avg ${loadavg()
    .map((x) => round(x, 2))
    .join(' ')}`;
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

async function ingestRows(scale: number, dir: string): Promise<Row[]> {
  const n = Math.max(2000, Math.round(100_000 * scale));
  const csv = join(dir, 'feed.csv');
  await writeCsv(csv, n);
  const what = `${n}-row mixed CSV (file), CPU per item`;
  const intelmq = findIntelmq();
  const redis = findRedis();
  const missing = 'skip' in intelmq ? intelmq.skip : 'skip' in redis ? redis.skip : undefined;
  let peer: Awaited<ReturnType<typeof runIntelmq>> | undefined;
  const rows: Row[] = [];
  if (missing !== undefined) {
    rows.push({ workload: 'peer', what: `IntelMQ: ${what}`, note: `NOT RUN: ${missing}` });
  } else if (!('skip' in intelmq) && !('skip' in redis)) {
    const copy = join(dir, 'intelmq-feed.csv');
    copyFileSync(csv, copy);
    const loadBefore = load();
    peer = await runIntelmq(intelmq, redis, copy, n, join(dir, 'intelmq'), Math.max(120, n / 100));
    const cpu = peer.botCpu + peer.redisCpu;
    rows.push({
      workload: 'peer',
      what: `IntelMQ ${peer.version}: ${what}`,
      items: peer.events,
      seconds: round(peer.seconds),
      rate: Math.round(peer.events / peer.seconds),
      cpu_s_per_1k: round((cpu / peer.events) * 1000, 3),
      note: `${peer.timedOut ? 'TIMED OUT; ' : ''}${Math.round(peer.events / cpu)} items per CPU-second (bots ${round(peer.botCpu)} s: ${Object.entries(
        peer.perBot,
      )
        .map(([k, v]) => `${k} ${round(v)}`)
        .join(', ')}; Redis ${redis.version} ${round(peer.redisCpu)} s); ${loadBefore} → ${load()}`,
    });
  }
  // as IntelMQ's bots, stixgate is measured warm: a small feed of other values first, into its own store
  const warm = join(dir, 'warm.csv');
  await writeCsv(warm, 2000, 0, n);
  const warmStore = await openThreadedStore({ dataDir: join(dir, 'warm-store') });
  await ingest(warmStore, source('csv', `file://${warm}`, { columns: CSV_COLUMNS }));
  await warmStore.close();
  const store = await openThreadedStore({ dataDir: join(dir, 'store') });
  const run = await ingest(store, source('csv', `file://${csv}`, { columns: CSV_COLUMNS }));
  await store.close();
  const created = run.sum.created;
  const ours = run.cpu / created;
  const peerCpu = peer ? (peer.botCpu + peer.redisCpu) / peer.events : undefined;
  rows.push({
    workload: 'peer',
    what: `stixgate ingest (writer-thread store): ${what}`,
    items: created,
    seconds: round(run.secs),
    rate: Math.round(created / run.secs),
    cpu_s_per_1k: round(ours * 1000, 3),
    target: '≥ 50× less CPU per item than IntelMQ',
    ratio:
      peer && peerCpu !== undefined
        ? `${round(peerCpu / ours, 1)}× less CPU per item than IntelMQ (bots + Redis); ${round(peer.botCpu / peer.events / ours, 1)}× against the bots alone`
        : `no IntelMQ row: ${missing}`,
    note: `${Math.round(1 / ours)} items per CPU-second (all threads of the process); ${load()}`,
  });
  return rows;
}

async function latencyRows(scale: number, dir: string): Promise<Row[]> {
  const what = 'lookup p99 vs Redis GET, same generator, open loop';
  const redis = findRedis();
  if ('skip' in redis) return [{ workload: 'peer', what, note: `NOT RUN: ${redis.skip}` }];
  const n = Math.max(2000, Math.round(1_000_000 * scale));
  // a rate both sides sustain on the shared 2-core box (W5 has the 20k/s figure and target)
  const rate = Math.max(1000, Math.round(5000 * Math.min(1, scale * 5)));
  const secs = Math.max(2, Math.round(10 * Math.min(1, scale * 5)));
  // W5's mix: half hits, half misses
  const values = Array.from({ length: 10_000 }, (_, i) =>
    i % 2 ? syntheticValue((i * 7919) % n).value : syntheticValue(n + i).value,
  );
  const store = await openThreadedStore({ dataDir: join(dir, 'lookup-store') });
  await fill(store, n);
  const { index } = await buildIndex(store, { now: () => NOW });
  const { app, base } = await startLookupServer({ index, store });
  const paths = join(dir, 'paths.txt');
  writeFileSync(paths, values.map((v) => `/api/v1/lookup?value=${encodeURIComponent(v)}`).join('\n'));
  const keys = join(dir, 'keys.txt');
  writeFileSync(keys, values.join('\n'));
  const server = await startRedis(redis, dir);
  try {
    // Redis holds the hits with a value of the size of one stixgate answer for a hit
    const client = await RespClient.connect(server.port);
    const answer = await (
      await fetch(`${base}/api/v1/lookup?value=${encodeURIComponent(must(values[1], 'values[1]'))}`)
    ).text();
    for (let i = 1; i < values.length; i += 2) await client.command(['SET', must(values[i], 'values[i]'), answer]);
    client.close();
    const ours: LoadgenResult[] = [];
    const theirs: LoadgenResult[] = [];
    for (let round_ = 0; round_ < 3; round_++) {
      theirs.push(
        await loadgen(['open', `redis://127.0.0.1:${server.port}/?values_file=${keys}`, String(rate), String(secs)]),
      );
      ours.push(await loadgen(['open', `${base}/api/v1/lookup?values_file=${paths}`, String(rate), String(secs)]));
    }
    const p = (rs: LoadgenResult[], k: 'p50' | 'p99' | 'p999') => median(rs.map((r) => r[k]));
    // a side answering well below the offered rate measures its queue, not its service time
    const overloaded = (rs: LoadgenResult[]) => {
      const worst = Math.min(...rs.map((r) => r.rps));
      return worst < 0.95 * rate
        ? `OVERLOADED: answered ${Math.round(worst)}/s of ${rate}/s offered in a round, so its p99 is queueing (machine too busy for this figure); `
        : '';
    };
    const fmt = (rs: LoadgenResult[]) => rs.map((r) => round(r.p99, 3)).join(', ');
    return [
      {
        workload: 'peer',
        what: `Redis ${redis.version} GET, open loop ${rate}/s (median of 3 rounds)`,
        items: theirs.reduce((s, r) => s + r.ok, 0),
        rate: Math.round(median(theirs.map((r) => r.rps))),
        p50_ms: round(p(theirs, 'p50'), 3),
        p99_ms: round(p(theirs, 'p99'), 3),
        p999_ms: round(p(theirs, 'p999'), 3),
        note: `${overloaded(theirs)}p99 per round ${fmt(theirs)} ms; errors ${theirs.reduce((s, r) => s + r.errors, 0)}; generator late p99 ${theirs.map((r) => r.lateMs).join(', ')} ms`,
      },
      {
        workload: 'peer',
        what: `stixgate single GET lookups, open loop ${rate}/s, ${n} indicators (median of 3 rounds)`,
        items: ours.reduce((s, r) => s + r.ok, 0),
        rate: Math.round(median(ours.map((r) => r.rps))),
        p50_ms: round(p(ours, 'p50'), 3),
        p99_ms: round(p(ours, 'p99'), 3),
        p999_ms: round(p(ours, 'p999'), 3),
        target: 'p99 ≤ 5× Redis GET p99',
        ratio: `${round(p(ours, 'p99') / p(theirs, 'p99'), 2)}× Redis's p99`,
        note: `${overloaded(ours)}p99 per round ${fmt(ours)} ms; errors ${ours.reduce((s, r) => s + r.errors, 0)}; generator late p99 ${ours.map((r) => r.lateMs).join(', ')} ms; ${load()}`,
      },
    ];
  } finally {
    await server.stop();
    await app.close();
    await store.close();
  }
}

export async function runPeers({ scale }: { scale: number }): Promise<Row[]> {
  const dir = tmp('peers');
  try {
    // STIXGATE_BENCH_PEERS=ingest or =latency runs one half
    const part = process.env.STIXGATE_BENCH_PEERS;
    return [
      ...(part === 'latency' ? [] : await ingestRows(scale, dir)),
      ...(part === 'ingest' ? [] : await latencyRows(scale, dir)),
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
