/**
 * W14c (issue #20, ADR 0023): the OpenSearch change log under several writers, against a local node.
 *
 *  - changes/s with 1 and 10 writers (store instances, each its own writer) of 10-object batches
 *    for a fixed time (target ≥ 5,000/s with 10 writers on one node);
 *  - the stall after a writer process is killed with SIGKILL mid-run: from the kill until a
 *    follower reads a change another writer made just after it (target ≤ 10 s, with the
 *    configuration's default `sequence_ttl_secs`);
 *  - `store.upsert` docs/s of one writer with 0 and with 10 change-log followers polling every
 *    500 ms (the lookup follower's default; target: within 10%).
 *
 * Needs STIXGATE_OPENSEARCH_URL (`eval "$(bash scripts/opensearch.sh start)"`).
 *
 *   node --import tsx -e "import('./bench/w14-changelog.ts').then(m => m.runW14c({ scale: 0.1 })).then(r => console.log(r))"
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { IngestItem } from '../src/store/contract.js';
import { OpenSearchStore, type OpenSearchStoreOptions } from '../src/store/opensearch/index.js';
import { opensearchStoreSchema } from '../src/store/opensearch/schema.js';
import { RUN_NOW } from './clock.js';
import { round, type Row } from './lib.js';
import { indicator, options } from './w14-opensearch.js';
import { FaultProxy } from '../test/integration/opensearch-helpers.js';

const WRITER = fileURLToPath(new URL('../test/integration/changelog-writer.ts', import.meta.url));
const ttlDefault = (): number =>
  opensearchStoreSchema.parse({ type: 'opensearch', node: 'http://127.0.0.1:9200' }, 'store', [])?.sequence_ttl_secs ??
  NaN;

function prefix(tag: string): string {
  return `stixgate-w14c-${Date.now().toString(36)}-${tag}`;
}

function opts(node: string, p: string, extra: Partial<OpenSearchStoreOptions> = {}): OpenSearchStoreOptions {
  return { ...options(node, p, 1000, '1s'), sequence_ttl_secs: ttlDefault(), ...extra };
}

async function open(o: OpenSearchStoreOptions): Promise<OpenSearchStore> {
  const s = new OpenSearchStore(o);
  await s.open();
  return s;
}

function batch(base: number, size: number): IngestItem[] {
  return Array.from({ length: size }, (_, i) => ({ object: indicator(base + i), source: 'w14c', confidence: 60 }));
}

/** `writers` store instances writing 10-object batches for `secs` seconds. */
async function writersRun(node: string, writers: number, secs: number): Promise<Row> {
  const p = prefix(`w${writers}`);
  const stores = await Promise.all(Array.from({ length: writers }, () => open(opts(node, p))));
  try {
    const until = performance.now() + secs * 1000;
    const t0 = performance.now();
    const counts = await Promise.all(
      stores.map(async (s, w) => {
        let n = 0;
        for (let b = 0; performance.now() < until; b++) {
          const r = await s.upsert(batch(10_000_000 + w * 1_000_000 + b * 10, 10), { now: RUN_NOW });
          n += r.created;
        }
        return n;
      }),
    );
    const seconds = (performance.now() - t0) / 1000;
    const items = counts.reduce((a, b) => a + b, 0);
    return {
      workload: 'W14c',
      what: `change log: ${writers} writer(s), 10-object batches`,
      items,
      seconds: round(seconds, 2),
      rate: round(items / seconds, 0),
      ...(writers === 10 ? { target: '≥ 5000 changes/s' } : {}),
    };
  } finally {
    await stores[0]?.destroy().catch(() => {});
    for (const s of stores) await s.close();
  }
}

/**
 * SIGKILL of a writer process mid-batch (its 21st bulk request is held by a loopback proxy while
 * the process is killed, then forwarded): seconds until a follower reads a later change of
 * another writer.
 */
async function stallRun(node: string): Promise<Row> {
  const p = prefix('stall');
  const follower = await open(opts(node, p, { refreshBeforeChanges: true }));
  const other = await open(opts(node, p));
  const proxy = new FaultProxy(node);
  const via = await proxy.start();
  try {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', WRITER, via, p, '7', '100000', '10', String(ttlDefault())],
      {
        stdio: ['ignore', 'ignore', 'inherit'],
        env: { ...process.env, STIXGATE_LOG_LEVEL: 'silent' },
      },
    );
    const exited = new Promise((r) => child.on('exit', r));
    let killedAt = 0;
    await new Promise<void>((resolve) => {
      proxy.beforeBulkAt(21, async () => {
        child.kill('SIGKILL');
        killedAt = performance.now();
        await exited;
        resolve();
      });
    });
    const probe = indicator(99_000_000);
    await other.upsert([{ object: probe, source: 'w14c' }], { now: RUN_NOW });
    let cursor = 0;
    for (;;) {
      const page = await follower.changes(cursor, 10_000);
      if (page.changes.some((c) => c.id === probe.id)) break;
      cursor = page.next;
      if (performance.now() - killedAt > 300_000) throw new Error('W14c: the follower never passed the dead writer');
      await new Promise((r) => setTimeout(r, 50));
    }
    const seconds = (performance.now() - killedAt) / 1000;
    return {
      workload: 'W14c',
      what: `stall after SIGKILL of a writer mid-run (sequence_ttl_secs ${ttlDefault()})`,
      seconds: round(seconds, 2),
      target: '≤ 10 s',
    };
  } finally {
    await follower.destroy().catch(() => {});
    await follower.close();
    await other.close();
    await proxy.stop();
  }
}

/** One writer's ingest with `followers` change-log followers polling every 500 ms. */
async function followersRun(node: string, followers: number, n: number): Promise<Row> {
  const p = prefix(`f${followers}`);
  const writer = await open(opts(node, p));
  const readers = await Promise.all(Array.from({ length: followers }, () => open(opts(node, p))));
  let running = true;
  const polls = readers.map(async (r) => {
    let cursor = 0;
    while (running) {
      for (;;) {
        const page = await r.changes(cursor, 10_000);
        cursor = page.next;
        if (page.changes.length < 10_000) break;
      }
      await new Promise((res) => setTimeout(res, 500));
    }
  });
  try {
    const r0 = await refreshes(node, writer.names.objects);
    const t0 = performance.now();
    for (let start = 0; start < n; start += 1000)
      await writer.upsert(batch(50_000_000 + start, Math.min(1000, n - start)), { now: RUN_NOW });
    const seconds = (performance.now() - t0) / 1000;
    const forced = (await refreshes(node, writer.names.objects)) - r0;
    return {
      workload: 'W14c',
      what: `upsert, 1000-doc bulks, with ${followers} follower(s) polling every 500 ms`,
      items: n,
      seconds: round(seconds, 2),
      rate: round(n / seconds, 0),
      note: `${forced} refreshes of the objects index during the run (periodic ones included)`,
    };
  } finally {
    running = false;
    await Promise.all(polls).catch(() => {});
    await writer.destroy().catch(() => {});
    for (const s of [writer, ...readers]) await s.close();
  }
}

/** Refreshes of an index that made writes searchable (periodic and requested). */
async function refreshes(node: string, index: string): Promise<number> {
  const r = await fetch(`${node}/${index}/_stats/refresh`);
  const body = (await r.json()) as { _all?: { primaries?: { refresh?: { external_total?: number; total?: number } } } };
  const t = body._all?.primaries?.refresh;
  return t?.external_total ?? t?.total ?? NaN;
}

export async function runW14c(opts: { scale: number }): Promise<Row[]> {
  const node = process.env.STIXGATE_OPENSEARCH_URL;
  if (!node) {
    return [
      {
        workload: 'W14c',
        what: 'OpenSearch change log',
        note: 'skipped: STIXGATE_OPENSEARCH_URL not set (eval "$(bash scripts/opensearch.sh start)")',
      },
    ];
  }
  const secs = Math.max(5, Math.round(20 * opts.scale));
  const n = Math.max(20_000, Math.round(100_000 * opts.scale));
  const rows: Row[] = [];
  rows.push(await writersRun(node, 1, secs));
  rows.push(await writersRun(node, 10, secs));
  rows.push(await stallRun(node));
  const alone = await followersRun(node, 0, n);
  const followed = await followersRun(node, 10, n);
  rows.push(alone, {
    ...followed,
    target: 'within 10% of 0 followers',
    ratio: `${round((followed.rate ?? 0) / (alone.rate ?? 1), 2)} of 0 followers`,
  });
  return rows;
}
