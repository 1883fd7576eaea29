/**
 * W14 (../shared/specs/BENCHMARKS.md): the OpenSearch store against a local node.
 *
 *  - bulk docs/s through `store.upsert` (mget + merge + change-log allocation + bulk) at 1k, 5k
 *    and 10k-document bulks with the objects index's refresh_interval at 1s and 30s, with the
 *    gateway's CPU against OpenSearch's (from /proc/<pid>/stat);
 *  - the raw `_bulk` ceiling of the same documents (no merge, no concurrency control) at 5k;
 *  - term lookups (`store.query({ value })`, half hits, half misses) p50/p99, the query path;
 *  - the lookup API's own path on this store (bench/w14-remote-lookup.ts): remote lookups behind
 *    the negative filter at a fixed offered rate, the filter's false-positive rate, and memory per
 *    instance against the in-memory index, at two store sizes.
 *
 * Needs STIXGATE_OPENSEARCH_URL (`eval "$(bash scripts/opensearch.sh start)"`); the OpenSearch pid
 * comes from STIXGATE_OPENSEARCH_PID or .cache/opensearch-run/default/opensearch.pid. scale 1 =
 * 1M indicators spread over the six runs; every run writes at least two bulks.
 *
 *   node --import tsx -e "import('./bench/w14-opensearch.ts').then(m => m.runW14({ scale: 0.01 })).then(r => console.log(r))"
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Indicator } from '../src/core/stix.js';
import type { IngestItem } from '../src/store/contract.js';
import { OpenSearchStore, type OpenSearchStoreOptions } from '../src/store/opensearch/index.js';
import { cpuSeconds, percentile, round, syntheticValue, type Row } from './lib.js';
import { RUN_NOW } from './clock.js';
import { must } from '../test/helpers/must.js';
import { runRemoteLookups } from './w14-remote-lookup.js';

const NOW = RUN_NOW;
const CLK_TCK = 100;

export function options(node: string, prefix: string, bulk: number, refresh: string): OpenSearchStoreOptions {
  return {
    node,
    auth: undefined as never,
    index_prefix: prefix,
    tls: { verify: true } as OpenSearchStoreOptions['tls'],
    seen_granularity_secs: 3600,
    max_batch_docs: bulk,
    max_batch_bytes: 100 * 1024 * 1024,
    request_timeout_secs: 120,
    sequence_ttl_secs: 300,
    refresh_interval: refresh,
    number_of_shards: 1,
    number_of_replicas: 0,
    retry: { max_attempts: 5, base_delay_ms: 200, max_delay_ms: 5000 },
  };
}

function patternOf(v: { type: string; value: string }): string {
  const esc = v.value.replace(/\\/g, '\\\\').replace(/'/g, "\\'");
  if (v.type === 'sha256') return `[file:hashes.'SHA-256' = '${esc}']`;
  return `[${v.type}:value = '${esc}']`;
}

export function indicator(i: number): Indicator {
  const v = syntheticValue(i, 14);
  const hex = (i >>> 0).toString(16).padStart(12, '0');
  const ts = new Date(NOW).toISOString();
  return {
    type: 'indicator',
    spec_version: '2.1',
    id: `indicator--00000000-0000-4000-8000-${hex}`,
    created: ts,
    modified: ts,
    name: `${v.type} ${v.value}`.slice(0, 200),
    pattern: patternOf(v),
    pattern_type: 'stix',
    valid_from: ts,
    indicator_types: ['malicious-activity'],
  };
}

export function openSearchPid(): number | undefined {
  const env = process.env.STIXGATE_OPENSEARCH_PID;
  if (env) return Number(env);
  try {
    const root = join(fileURLToPath(new URL('.', import.meta.url)), '..');
    return Number(readFileSync(join(root, '.cache/opensearch-run/default/opensearch.pid'), 'utf8').trim());
  } catch {
    return undefined;
  }
}

/** utime + stime of a process in seconds (fields 14 and 15 of /proc/<pid>/stat). */
export function processCpu(pid: number | undefined): number {
  if (!pid) return NaN;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
  } catch {
    return NaN;
  }
}

async function ingestRun(
  node: string,
  bulk: number,
  refresh: string,
  n: number,
  pid: number | undefined,
  base: number,
): Promise<Row> {
  const store = new OpenSearchStore(
    options(node, `stixgate-w14-${Date.now().toString(36)}-${bulk}-${refresh.replace(/\W/g, '')}`, bulk, refresh),
  );
  await store.open();
  try {
    const g0 = cpuSeconds();
    const o0 = processCpu(pid);
    const t0 = performance.now();
    let created = 0;
    for (let start = 0; start < n; start += bulk) {
      const items: IngestItem[] = [];
      for (let i = start; i < Math.min(n, start + bulk); i++)
        items.push({ object: indicator(base + i), source: 'w14', confidence: 60 });
      const r = await store.upsert(items, { now: NOW });
      created += r.created;
      if (r.rejected.length > 0)
        throw new Error(`W14: ${r.rejected.length} rejected: ${must(r.rejected[0], 'r.rejected[0]').message}`);
    }
    const secs = (performance.now() - t0) / 1000;
    const gw = cpuSeconds() - g0;
    const os = processCpu(pid) - o0;
    const ratio = Number.isNaN(os)
      ? 'OpenSearch CPU unknown (no pid)'
      : `gateway CPU ${round((gw / os) * 100, 1)}% of OpenSearch CPU (${round(gw, 2)} s vs ${round(os, 2)} s)`;
    return {
      workload: 'W14',
      what: `store.upsert, ${bulk}-doc bulks, refresh_interval ${refresh}`,
      items: created,
      seconds: round(secs),
      rate: Math.round(created / secs),
      cpu_s_per_1k: round((gw / created) * 1000, 3),
      target: '≥ 5k docs/s; gateway CPU ≤ 25% of OpenSearch',
      ratio,
      note: `${store.counters.bulkRequests} bulk requests, ${store.counters.conflicts} conflicts`,
    };
  } finally {
    await store.destroy();
    await store.close();
  }
}

async function rawBulkRun(
  node: string,
  bulk: number,
  refresh: string,
  n: number,
  pid: number | undefined,
  base: number,
): Promise<Row> {
  const store = new OpenSearchStore(
    options(node, `stixgate-w14raw-${Date.now().toString(36)}-${refresh.replace(/\W/g, '')}`, bulk, refresh),
  );
  await store.open();
  const client = (store as unknown as { client: import('@opensearch-project/opensearch').Client }).client;
  try {
    const g0 = cpuSeconds();
    const o0 = processCpu(pid);
    const t0 = performance.now();
    for (let start = 0; start < n; start += bulk) {
      let body = '';
      for (let i = start; i < Math.min(n, start + bulk); i++) {
        const o = indicator(base + i);
        const json = JSON.stringify(o);
        body += `{"index":{"_index":"${store.names.objects}","_id":"${o.id}"}}\n${JSON.stringify({ id: o.id, type: o.type, state: 'active', seq: i + 1, first_seq: i + 1, modified: o.modified, name: o.name, pattern: o.pattern, provenance: { sources: ['w14'] }, json })}\n`;
      }
      const r = await client.bulk({ body: body as never });
      if ((r.body as { errors: boolean }).errors) throw new Error('W14 raw bulk: item errors');
    }
    const secs = (performance.now() - t0) / 1000;
    const gw = cpuSeconds() - g0;
    const os = processCpu(pid) - o0;
    return {
      workload: 'W14',
      what: `raw _bulk ceiling, ${bulk}-doc bulks, refresh_interval ${refresh}`,
      items: n,
      seconds: round(secs),
      rate: Math.round(n / secs),
      cpu_s_per_1k: round((gw / n) * 1000, 3),
      ratio: Number.isNaN(os) ? undefined : `gateway CPU ${round((gw / os) * 100, 1)}% of OpenSearch CPU`,
      note: 'no mget/merge/OCC/change log: the in-run peer for store.upsert',
    };
  } finally {
    await store.destroy();
    await store.close();
  }
}

async function lookupRun(node: string, n: number, queries: number): Promise<Row> {
  const store = new OpenSearchStore(options(node, `stixgate-w14q-${Date.now().toString(36)}`, 5000, '1s'));
  await store.open();
  try {
    for (let start = 0; start < n; start += 5000) {
      const items: IngestItem[] = [];
      for (let i = start; i < Math.min(n, start + 5000); i++) items.push({ object: indicator(i), source: 'w14' });
      await store.upsert(items, { now: NOW });
    }
    await store.query({ value: '198.51.100.1', limit: 1 }); // refresh + warm-up
    const lat = new Float64Array(queries);
    let hits = 0;
    for (let q = 0; q < queries; q++) {
      const hit = q % 2 === 0;
      const v = hit ? syntheticValue((q * 7919) % n, 14).value : `miss-${q}.invalid`;
      const t = performance.now();
      const r = await store.query({ value: v, limit: 10 });
      lat[q] = performance.now() - t;
      if (r.objects.length > 0) hits++;
    }
    lat.sort();
    return {
      workload: 'W14',
      what: `term lookup store.query({ value }) over ${n} indicators, 50% misses`,
      items: queries,
      p50_ms: round(percentile(lat, 50), 2),
      p99_ms: round(percentile(lat, 99), 2),
      target: 'REST anchor 2–8 ms p50',
      note: `${hits} hits; no Bloom pre-filter in the store (misses cost a round-trip)`,
    };
  } finally {
    await store.destroy();
    await store.close();
  }
}

export async function runW14(opts: { scale: number }): Promise<Row[]> {
  const node = process.env.STIXGATE_OPENSEARCH_URL;
  if (!node) {
    return [
      {
        workload: 'W14',
        what: 'OpenSearch backend',
        note: 'skipped: STIXGATE_OPENSEARCH_URL not set (eval "$(bash scripts/opensearch.sh start)")',
      },
    ];
  }
  const pid = openSearchPid();
  const rows: Row[] = [];
  const perRun = Math.round((1_000_000 * opts.scale) / 6);
  let base = 1_000_000;
  for (const refresh of ['1s', '30s']) {
    for (const bulk of [1000, 5000, 10000]) {
      const n = Math.max(2 * bulk, perRun);
      rows.push(await ingestRun(node, bulk, refresh, n, pid, base));
      base += n;
    }
    const n = Math.max(10000, perRun);
    rows.push(await rawBulkRun(node, 5000, refresh, n, pid, base));
    base += n;
  }
  rows.push(await lookupRun(node, Math.max(10000, perRun), Math.max(500, Math.round(20000 * opts.scale))));
  rows.push(...(await runRemoteLookups(node, opts.scale)));
  return rows;
}
