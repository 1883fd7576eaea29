/**
 * Reconcile at scale: a product holding 1M entries (at scale 1) against a store of 100,000
 * indicators (the first 100,000 entries are current, the rest extra). Each variant runs in a
 * process of its own, so its peak RSS (getrusage maxRSS) is its own: reconcile's plan (both sides
 * spilled to sorted runs of 50,000 on disk and merged) with the V8 heap capped at 128 MB, and the
 * peer, the naive comparison that holds every remote entry in a Map, with the same cap (it runs
 * out of memory) and without one. The remote side is an in-process read API (pages of 10,000
 * entries), so the figures are the engine's, not a simulator's.
 */
import Bottleneck from 'bottleneck';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { rmSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { detectObservable } from '../src/core/observable.js';
import { recordKey } from '../src/delivery/records.js';
import { reconcileSink } from '../src/delivery/reconcile.js';
import { DeadLetterFile } from '../src/delivery/dead-letter.js';
import type { CommonSinkConfig, RemoteEntry, Sink, SinkReconciler } from '../src/delivery/types.js';
import { openEmbeddedStore } from '../src/store/embedded/index.js';
import { silentLogger } from '../src/telemetry/logger.js';
import { fill, NOW, tmp } from './ingest-kit.js';
import { round, syntheticValue, type Row } from './lib.js';
import { must } from '../test/helpers/must.js';
import { NO_HTTP } from '../test/helpers/offline-run.js';

const PAGE = 10_000;

function keyOf(i: number, inStore: number): string {
  if (i < inStore) {
    const r = detectObservable(syntheticValue(i).value);
    if (r.ok) return recordKey(r.observable);
  }
  return createHash('sha1').update(`extra:${i}`).digest('hex');
}

async function* remote(n: number, inStore: number): AsyncGenerator<RemoteEntry[]> {
  for (let start = 0; start < n; start += PAGE) {
    const page: RemoteEntry[] = [];
    for (let i = start; i < Math.min(n, start + PAGE); i++)
      page.push({ key: keyOf(i, inStore), digest: 'same', ref: i, label: `bench ${i}` });
    yield page;
  }
}

const HEAP_CAP_MB = 128;
const here = fileURLToPath(import.meta.url);

/** One variant in this process (the child side): prints `{secs, maxRssMb, ...}` as the last line. */
async function child(variant: string, dir: string, n: number, inStore: number): Promise<void> {
  const t0 = process.hrtime.bigint();
  const secs = () => Number(process.hrtime.bigint() - t0) / 1e9;
  const rss = () => Math.round(process.resourceUsage().maxRSS / 1024);
  if (variant === 'map') {
    const held = new Map<string, RemoteEntry>();
    for await (const page of remote(n, inStore)) for (const e of page) held.set(e.key, e);
    let found = 0;
    for (let i = 0; i < inStore; i++) if (held.has(keyOf(i, inStore))) found++;
    process.stdout.write(`${JSON.stringify({ secs: secs(), maxRssMb: rss(), found, size: held.size })}\n`);
    return;
  }
  const store = await openEmbeddedStore({ dataDir: join(dir, 'data') });
  try {
    const reconciler: SinkReconciler = {
      describe: () => 'bench read API',
      read: () => remote(n, inStore),
      expected: (r) => ({ key: r.key, digest: 'same', label: r.observable.value }),
      removeExtra: async () => undefined,
    };
    const sink: Sink = {
      limits: { maxBatch: 1000, concurrency: 1 },
      upsert: async (r) => r.map(() => ({ status: 'ok' as const })),
      remove: async (r) => r.map(() => ({ status: 'ok' as const })),
      reconciler,
    };
    const config = {
      type: 'bench',
      max_tlp: 'amber',
      filters: { types: [], min_score: 0, labels: [], exclude_labels: [], sources: [] },
      retry: { max_attempts: 1, base_delay_secs: 0.01, max_delay_secs: 0.01 },
    } as unknown as CommonSinkConfig;
    const startRss = rss();
    const r = await reconcileSink({
      id: 'bench',
      sink,
      config,
      store,
      http: NO_HTTP,
      logger: silentLogger(),
      mapping: { indicator: 'value' },
      deadLetter: new DeadLetterFile(join(dir, 'dl.jsonl')),
      limiter: new Bottleneck({ maxConcurrent: 1 }),
      signal: new AbortController().signal,
      now: () => NOW,
      apply: false,
      tmpDir: join(dir, 'spill'),
    });
    if (r.read !== n || r.counts.in_sync !== inStore || r.counts.extra !== n - inStore)
      throw new Error(`reconcile bench: unexpected plan ${JSON.stringify(r.counts)} read ${r.read}`);
    process.stdout.write(
      `${JSON.stringify({ secs: secs(), maxRssMb: rss(), startRssMb: startRss, counts: r.counts })}\n`,
    );
  } finally {
    await store.close();
  }
}

function spawnVariant(
  variant: string,
  dir: string,
  n: number,
  inStore: number,
  heapMb?: number,
): { ok: boolean; out?: { secs: number; maxRssMb: number; startRssMb?: number }; status: number | null } {
  const args = [
    ...(heapMb ? [`--max-old-space-size=${heapMb}`] : []),
    '--import',
    'tsx',
    here,
    'child',
    variant,
    dir,
    String(n),
    String(inStore),
  ];
  const r = spawnSync(process.execPath, args, {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 16 << 20,
  });
  const last = r.stdout.trim().split('\n').pop() ?? '';
  return r.status === 0 ? { ok: true, out: JSON.parse(last), status: 0 } : { ok: false, status: r.status };
}

export async function runReconcileBench(o: { scale: number }): Promise<Row[]> {
  const n = Math.round(1_000_000 * o.scale);
  const inStore = Math.round(100_000 * o.scale);
  const dir = tmp('reconcile');
  try {
    const store = await openEmbeddedStore({ dataDir: join(dir, 'data') });
    await fill(store, inStore);
    await store.close();
    const plan = spawnVariant('plan', dir, n, inStore, HEAP_CAP_MB);
    if (!plan.ok)
      throw new Error(`reconcile bench: the plan failed under a ${HEAP_CAP_MB} MB heap (status ${plan.status})`);
    const capped = spawnVariant('map', dir, n, inStore, HEAP_CAP_MB);
    const map = spawnVariant('map', dir, n, inStore);
    const p = must(plan.out, 'plan.out');
    return [
      {
        workload: 'reconcile',
        what: `plan: ${n} remote entries vs ${inStore} indicators, V8 heap capped at ${HEAP_CAP_MB} MB (sorted runs of 50,000 on disk)`,
        items: n,
        seconds: round(p.secs),
        rate: Math.round(n / p.secs),
        peak_rss_mb: p.maxRssMb,
        note: `RSS with the store open, before the plan: ${p.startRssMb} MB`,
      },
      {
        workload: 'reconcile',
        what: 'peer: every remote entry held in a Map (no store)',
        items: n,
        seconds: map.ok ? round(must(map.out, 'map.out').secs) : undefined,
        peak_rss_mb: map.ok ? must(map.out, 'map.out').maxRssMb : undefined,
        ratio: map.ok
          ? `${round(p.maxRssMb / must(map.out, 'map.out').maxRssMb, 2)} (reconcile's peak RSS / the Map's)`
          : undefined,
        note: capped.ok
          ? `also completed under the ${HEAP_CAP_MB} MB heap cap`
          : `runs out of memory under the ${HEAP_CAP_MB} MB heap cap (exit ${capped.status})`,
      },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === 'child') {
  const [, , , variant, dir, n, inStore] = process.argv;
  await child(must(variant, 'variant'), must(dir, 'dir'), Number(n), Number(inStore));
}
