/**
 * `npm run bench -- capacity` (on demand): the constants of the capacity model (docs/scaling.md,
 * scripts/capacity-model.mjs) measured on the OpenSearch node of STIXGATE_OPENSEARCH_URL, at two
 * store sizes (20k and 100k indicators times the scale):
 *
 *  - disk: the objects index's primary store bytes per indicator after a refresh and a force
 *    merge to one segment (what a shard holds at rest), and the document count;
 *  - ingest CPU: gateway CPU-s and OpenSearch CPU-s per 1,000 indicators written through
 *    `store.upsert` in 5,000-document bulks (from /proc/<pid>/stat, as W14);
 *  - follow CPU: what one instance spends reading the whole change log once (`changes()` pages of
 *    1,000), gateway and OpenSearch CPU-s per 1,000 changes: every instance pays it for every
 *    change, so it is the cost that grows with instances × change rate.
 *
 * The load average is recorded next to each row; the constants go to bench/out/capacity.json,
 * which the model script reads.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { IngestItem } from '../src/store/contract.js';
import { OpenSearchStore } from '../src/store/opensearch/index.js';
import { RUN_NOW } from './clock.js';
import { cpuSeconds, round, type Row } from './lib.js';
import { indicator, openSearchPid, options, processCpu } from './w14-opensearch.js';

const BULK = 5000;
const load = () =>
  loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');

interface Sample {
  indicators: number;
  disk_bytes_per_indicator: number;
  docs: number;
  deleted_docs: number;
  segments: number;
  ingest_gateway_cpu_s_per_1k: number;
  ingest_opensearch_cpu_s_per_1k: number;
  follow_gateway_cpu_s_per_1k: number;
  follow_opensearch_cpu_s_per_1k: number;
  load: string;
}

interface Primaries {
  store: { size_in_bytes: number };
  docs: { count: number; deleted: number };
  segments: { count: number };
}

async function primaries(node: string, index: string): Promise<Primaries> {
  const r = await fetch(`${node}/${index}/_stats/store,docs,segments`);
  return ((await r.json()) as { _all: { primaries: Primaries } })._all.primaries;
}

async function measure(node: string, n: number, pid: number | undefined): Promise<Sample> {
  const prefix = `stixgate-capacity-${Date.now().toString(36)}-${n}`;
  const store = new OpenSearchStore(options(node, prefix, BULK, '30s'));
  await store.open();
  try {
    const load0 = load();
    const g0 = cpuSeconds();
    const o0 = processCpu(pid);
    for (let start = 0; start < n; start += BULK) {
      const items: IngestItem[] = [];
      for (let i = start; i < Math.min(n, start + BULK); i++)
        items.push({ object: indicator(i), source: 'capacity', confidence: 60 });
      const r = await store.upsert(items, { now: RUN_NOW });
      if (r.rejected.length > 0) throw new Error(`capacity: ${r.rejected.length} rejected`);
    }
    const ingestGw = cpuSeconds() - g0;
    const ingestOs = processCpu(pid) - o0;
    const objects = store.names.objects;
    await fetch(`${node}/${objects}/_refresh`, { method: 'POST' });
    await fetch(`${node}/${objects}/_forcemerge?max_num_segments=1`, { method: 'POST' });
    // the merge may still run when the request returns (its old segments then count twice): read
    // the size once one segment is left, or after 120 polls (the row then names the segment count)
    let p = await primaries(node, objects);
    for (let i = 0; i < 120 && p.segments.count > 1; i++) {
      await new Promise((r) => setTimeout(r, 1000));
      p = await primaries(node, objects);
    }
    const bytes = p.store.size_in_bytes;
    // one instance following the whole log from the start (a second store on the same indices,
    // reading what is acknowledged: the refresh above already made it searchable)
    const follower = new OpenSearchStore({ ...options(node, prefix, BULK, '30s'), refreshBeforeChanges: true });
    await follower.open();
    const g1 = cpuSeconds();
    const o1 = processCpu(pid);
    let cursor = 0;
    let read = 0;
    for (;;) {
      const page = await follower.changes(cursor, 1000);
      read += page.changes.length;
      if (page.changes.length === 0 || cursor === page.next) break;
      cursor = page.next;
    }
    if (read < n) throw new Error(`capacity: the follower read ${read} of ${n} changes`);
    const followGw = cpuSeconds() - g1;
    const followOs = processCpu(pid) - o1;
    await follower.close();
    return {
      indicators: n,
      disk_bytes_per_indicator: round(bytes / n, 1),
      docs: p.docs.count,
      deleted_docs: p.docs.deleted,
      segments: p.segments.count,
      ingest_gateway_cpu_s_per_1k: round((ingestGw / n) * 1000, 3),
      ingest_opensearch_cpu_s_per_1k: round((ingestOs / n) * 1000, 3),
      follow_gateway_cpu_s_per_1k: round((followGw / read) * 1000, 3),
      follow_opensearch_cpu_s_per_1k: round((followOs / read) * 1000, 3),
      load: `${load0} → ${load()}`,
    };
  } finally {
    await store.destroy();
    await store.close();
  }
}

export async function runCapacity(o: { scale: number }): Promise<Row[]> {
  const node = process.env.STIXGATE_OPENSEARCH_URL;
  if (!node)
    return [
      { workload: 'capacity', what: 'OpenSearch capacity constants', note: 'NOT RUN: STIXGATE_OPENSEARCH_URL unset' },
    ];
  const pid = openSearchPid();
  const samples: Sample[] = [];
  for (const n of [20_000, 100_000])
    samples.push(await measure(node, Math.max(2 * BULK, Math.round(n * o.scale)), pid));
  const out = join(fileURLToPath(new URL('.', import.meta.url)), 'out');
  mkdirSync(out, { recursive: true });
  writeFileSync(
    join(out, 'capacity.json'),
    `${JSON.stringify({ measured: new Date().toISOString(), samples }, null, 2)}\n`,
  );
  return samples.flatMap((s) => [
    {
      workload: 'capacity',
      what: `OpenSearch objects index at ${s.indicators} indicators after a force merge, bytes per indicator`,
      items: s.indicators,
      rate: s.disk_bytes_per_indicator,
      note: `${s.docs} docs, ${s.deleted_docs} deleted, ${s.segments} segment(s); load ${s.load}`,
    },
    {
      workload: 'capacity',
      what: `ingest CPU-s per 1k indicators (5k bulks), gateway / OpenSearch`,
      items: s.indicators,
      cpu_s_per_1k: s.ingest_gateway_cpu_s_per_1k,
      ratio: `OpenSearch ${s.ingest_opensearch_cpu_s_per_1k} CPU-s per 1k`,
      note: `load ${s.load}`,
    },
    {
      workload: 'capacity',
      what: `one follower reading the change log, CPU-s per 1k changes, gateway / OpenSearch`,
      items: s.indicators,
      cpu_s_per_1k: s.follow_gateway_cpu_s_per_1k,
      ratio: `OpenSearch ${s.follow_opensearch_cpu_s_per_1k} CPU-s per 1k`,
      note: `load ${s.load}`,
    },
  ]);
}
