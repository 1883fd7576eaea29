#!/usr/bin/env node
/**
 * The capacity model of docs/scaling.md: memory, disk, CPU and OpenSearch sizing for a store of N
 * indicators served by I gateway instances on the OpenSearch store, computed from measured
 * constants and stated workload assumptions.
 *
 *   node scripts/capacity-model.mjs                      # the table of docs/scaling.md (markdown)
 *   node scripts/capacity-model.mjs --json               # the same, as JSON
 *   node scripts/capacity-model.mjs --constants FILE     # constants from a `capacity` bench run
 *                                                        # (bench/out/capacity.json; default: the
 *                                                        # figures recorded below)
 *   node scripts/capacity-model.mjs --churn 0.1 --peak 10 --sinks 2 --replicas 1
 *
 * Every constant names where it was measured; docs/scaling.md states the model and what it
 * leaves out.
 */
import { readFileSync } from 'node:fs';

/** Measured constants (docs/scaling.md lists the runs and the load average during each). */
export const MEASURED = {
  // bench/w-capacity.ts, 100k sample (2026-12-08 01:06, load 18-25): objects index primary store
  // after a force merge to one segment, synthetic minimal indicators (one pattern, no description)
  diskBytesPerIndicator: 334.7,
  // same sample: CPU-s per 1,000 indicators written through store.upsert in 5k bulks
  ingestGatewayCpuPer1k: 0.049,
  ingestOpenSearchCpuPer1k: 0.089,
  // same sample: one instance reading the change log, CPU-s per 1,000 changes
  followGatewayCpuPer1k: 0.011,
  followOpenSearchCpuPer1k: 0.017,
  // test/integration/fleet.itest.ts (2026-12-08, two runs, load 25-39): peak RSS of an instance
  // (96 MB heap limit, tsx loader, remote lookups, 100k filter capacity, two sinks, three
  // sources): 183-190 MB and 199-214 MB; the highest is used
  instanceBaseRssMb: 214,
  // ADR 0024: a Bloom filter at fp 0.1% holds 14.4 bits per value
  filterBitsPerValue: 14.38,
  // ADR 0024 (W14 remote lookups): filter built from the store, seconds per 1,000 indicators (20 s at 100k)
  filterBuildSecsPer1k: 0.2,
  // ADR 0024: snapshot read, seconds per MB (0.6 s for 17 MB)
  snapshotReadSecsPerMb: 0.035,
  // ADR 0025 (bench `ledgeros`): delivery ledger bytes per (value, sink) on OpenSearch
  ledgerBytesPerValueSink: 56.1,
};

/** Workload assumptions (docs/scaling.md, "Assumptions"): each can be given on the command line. */
export const ASSUMED = {
  /** share of the store that changes per day (new, updated, expired, revoked) */
  churn: 0.1,
  /** peak change rate against the day's average (feed pages arrive in bursts) */
  peak: 10,
  /** sinks, each reading every change once (on the lease holder) */
  sinks: 2,
  /** OpenSearch replicas per primary shard */
  replicas: 1,
  /** target size of one primary shard (GB); OpenSearch's guidance is 10-50 GB */
  shardGb: 30,
  /** listed values per indicator (most list one; CIDR and URL indicators list one too) */
  valuesPerIndicator: 1.05,
  /** stored size of a real feed's indicator against the measured minimal one (description, labels, references, score history) */
  objectSizeFactor: 1,
  /** hot cache per instance (lookup.remote.cache_mb default) */
  cacheMb: 64,
  /** free disk kept for merges and relocation, as a share of the data */
  diskHeadroom: 0.5,
  /** shards per GB of OpenSearch heap (OpenSearch's guidance: at most 20-25) */
  shardsPerHeapGb: 20,
  /** share of the primary data kept in the nodes' page cache so that lookups rarely read the disk */
  pageCacheShare: 0.5,
};

const GB = 1024 ** 3;
const MB = 1024 ** 2;

/** One row of the model: a store of `n` indicators served by `instances` gateways. */
export function model(n, instances, c = MEASURED, a = ASSUMED) {
  const values = n * a.valuesPerIndicator;
  const filterMb = (values * c.filterBitsPerValue) / 8 / MB;
  const perInstanceMb = c.instanceBaseRssMb + filterMb + a.cacheMb;
  const primaryBytes = n * c.diskBytesPerIndicator * a.objectSizeFactor + n * a.sinks * c.ledgerBytesPerValueSink;
  const shards = Math.max(1, Math.ceil(primaryBytes / (a.shardGb * GB)));
  const diskBytes = primaryBytes * (1 + a.replicas) * (1 + a.diskHeadroom);
  const changesPerSec = (n * a.churn) / 86_400;
  const peakChanges = changesPerSec * a.peak;
  // per change: written once (ingest), read by every instance's follower and by each sink's run
  const readers = instances + a.sinks;
  const gatewayCpu = (r) => (r * (c.ingestGatewayCpuPer1k + readers * c.followGatewayCpuPer1k)) / 1000;
  const openSearchCpu = (r) => (r * (c.ingestOpenSearchCpuPer1k + readers * c.followOpenSearchCpuPer1k)) / 1000;
  const heapGb = Math.max(1, Math.ceil((shards * (1 + a.replicas)) / a.shardsPerHeapGb));
  return {
    indicators: n,
    instances,
    filter_mb: round(filterMb),
    instance_rss_mb: round(perInstanceMb),
    fleet_rss_gb: round((perInstanceMb * instances) / 1024, 2),
    primary_shards: shards,
    opensearch_disk_gb: round(diskBytes / GB),
    opensearch_heap_gb: heapGb,
    opensearch_ram_gb: round(heapGb + (primaryBytes * a.pageCacheShare) / GB),
    changes_per_sec_avg: round(changesPerSec),
    gateway_cores_avg: round(gatewayCpu(changesPerSec), 2),
    gateway_cores_peak: round(gatewayCpu(peakChanges), 2),
    opensearch_cores_avg: round(openSearchCpu(changesPerSec), 2),
    opensearch_cores_peak: round(openSearchCpu(peakChanges), 2),
    initial_load_cpu_hours: round((n * (c.ingestGatewayCpuPer1k + c.ingestOpenSearchCpuPer1k)) / 1000 / 3600, 1),
    filter_rebuild_hours: round((n * c.filterBuildSecsPer1k) / 1000 / 3600, 2),
    snapshot_read_secs: round(filterMb * c.snapshotReadSecsPerMb, 1),
  };
}

function round(x, digits = 1) {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** The constants of a `capacity` bench run (bench/out/capacity.json): its largest sample. */
export function constantsFrom(file, base = MEASURED) {
  const run = JSON.parse(readFileSync(file, 'utf8'));
  const s = run.samples.reduce((a, b) => (b.indicators > a.indicators ? b : a));
  return {
    ...base,
    diskBytesPerIndicator: s.disk_bytes_per_indicator,
    ingestGatewayCpuPer1k: s.ingest_gateway_cpu_s_per_1k,
    ingestOpenSearchCpuPer1k: s.ingest_opensearch_cpu_s_per_1k,
    followGatewayCpuPer1k: s.follow_gateway_cpu_s_per_1k,
    followOpenSearchCpuPer1k: s.follow_opensearch_cpu_s_per_1k,
  };
}

export function table(rows) {
  const cols = [
    ['indicators', 'indicators'],
    ['instances', 'instances'],
    ['instance_rss_mb', 'RSS per instance (MB)'],
    ['fleet_rss_gb', 'gateways total (GB)'],
    ['primary_shards', 'primary shards'],
    ['opensearch_disk_gb', 'OpenSearch disk (GB)'],
    ['opensearch_heap_gb', 'OpenSearch heap (GB)'],
    ['opensearch_ram_gb', 'OpenSearch RAM (GB)'],
    ['changes_per_sec_avg', 'changes/s (avg)'],
    ['gateway_cores_avg', 'gateway cores avg / peak'],
    ['opensearch_cores_avg', 'OpenSearch cores avg / peak'],
    ['initial_load_cpu_hours', 'first load (CPU-h)'],
    ['filter_rebuild_hours', 'filter rebuild (h)'],
  ];
  const fmt = (r, k) => {
    if (k === 'indicators') return r.indicators >= 1e6 ? `${r.indicators / 1e6}M` : String(r.indicators);
    if (k === 'gateway_cores_avg') return `${r.gateway_cores_avg} / ${r.gateway_cores_peak}`;
    if (k === 'opensearch_cores_avg') return `${r.opensearch_cores_avg} / ${r.opensearch_cores_peak}`;
    return String(r[k]);
  };
  const head = `| ${cols.map(([, h]) => h).join(' | ')} |`;
  const rule = `|${cols.map(() => '---').join('|')}|`;
  return [head, rule, ...rows.map((r) => `| ${cols.map(([k]) => fmt(r, k)).join(' | ')} |`)].join('\n');
}

function main(argv) {
  let constants = MEASURED;
  const assumed = { ...ASSUMED };
  let json = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--json') json = true;
    else if (arg === '--constants') constants = constantsFrom(argv[++i]);
    else if (arg?.startsWith('--') && arg.slice(2) in assumed) {
      const v = Number(argv[++i]);
      if (!Number.isFinite(v) || v < 0) throw new Error(`${arg}: a non-negative number, not ${argv[i]}`);
      assumed[arg.slice(2)] = v;
    } else throw new Error(`unknown argument ${arg}; see the header of scripts/capacity-model.mjs`);
  }
  const rows = [];
  for (const n of [1e6, 1e7, 1e8]) for (const i of [1, 3, 10]) rows.push(model(n, i, constants, assumed));
  process.stdout.write(json ? `${JSON.stringify({ constants, assumed, rows }, null, 2)}\n` : `${table(rows)}\n`);
}

if (import.meta.url === `file://${process.argv[1]}`) main(process.argv.slice(2));
