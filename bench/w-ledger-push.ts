/**
 * What the delivery ledger costs a push (docs/deliveries.md): the same store pushed from cursor 0
 * to an in-process sink that acknowledges every batch on the next turn of the event loop (the KV
 * sink's limits and mapping, as the pushmem bench), once with the ledger (the store's
 * `commitDeliveries`: ledger rows with each cursor) and once without it (the same store with
 * `commitDeliveries` hidden: the cursor alone), interleaved on, off, off, on so that a change of
 * machine load hits both. The sink costs nothing, so the ratio is the ledger's share of the
 * gateway's own work, an upper bound for a real SIEM's push. Embedded always; OpenSearch when
 * STIXGATE_OPENSEARCH_URL is set (a tenth of the values).
 */
import { join } from 'node:path';
import { rmSync } from 'node:fs';
import { openEmbeddedStore } from '../src/store/embedded/index.js';
import { OpenSearchStore } from '../src/store/opensearch/index.js';
import type { Store } from '../src/store/contract.js';
import { runSink } from '../src/delivery/runner.js';
import { round, type Row } from './lib.js';
import { fill, tmp } from './ingest-kit.js';
import { CountingSink, benchPushOptions } from './push-memory.js';
import { options } from './w14-opensearch.js';

/** The store without its ledger: every method of `store` but `commitDeliveries`. */
function withoutLedger(store: Store): Store {
  return new Proxy(store, {
    get(target, p) {
      if (p === 'commitDeliveries') return undefined;
      const v = Reflect.get(target, p, target) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

async function pushOnce(store: Store, id: string, dir: string): Promise<{ records: number; secs: number }> {
  const sink = new CountingSink();
  const t0 = performance.now();
  await runSink(benchPushOptions(store, sink, id, dir));
  return { records: sink.records, secs: (performance.now() - t0) / 1000 };
}

async function compare(kind: string, store: Store, n: number, dir: string): Promise<Row[]> {
  const off = withoutLedger(store);
  const runs: Record<'on' | 'off', { records: number; secs: number }[]> = { on: [], off: [] };
  for (const [i, mode] of (['on', 'off', 'off', 'on'] as const).entries())
    runs[mode].push(await pushOnce(mode === 'on' ? store : off, `${kind}-${mode}-${i}`, dir));
  const rate = (m: 'on' | 'off') => {
    const r = runs[m];
    return r.reduce((a, x) => a + x.records, 0) / r.reduce((a, x) => a + x.secs, 0);
  };
  const on = rate('on');
  const offRate = rate('off');
  const extraMsPer1k = (1000 / on - 1000 / offRate) * 1000;
  const row = (m: 'on' | 'off', r: number): Row => ({
    workload: 'LEDGER-PUSH',
    what: `${kind}: first push of ${n} indicators, ledger ${m} (2 runs, interleaved on/off/off/on), in-process sink`,
    items: runs[m].reduce((a, x) => a + x.records, 0),
    seconds: round(runs[m].reduce((a, x) => a + x.secs, 0)),
    rate: Math.round(r),
    note: runs[m].map((x) => `${round(x.secs)} s`).join(', '),
  });
  return [
    row('off', offRate),
    {
      ...row('on', on),
      ratio: `${round((on / offRate) * 100, 1)}% of the push rate without the ledger; +${round(extraMsPer1k, 1)} ms per 1,000 records`,
    },
  ];
}

export async function runLedgerPushBench(o: { scale: number }): Promise<Row[]> {
  const n = Math.max(10_000, Math.round(200_000 * o.scale));
  const dir = tmp('ledgerpush');
  const rows: Row[] = [];
  try {
    const store = await openEmbeddedStore({ dataDir: join(dir, 'store') });
    await fill(store, n);
    rows.push(...(await compare('embedded', store, n, dir)));
    await store.close();
    const node = process.env.STIXGATE_OPENSEARCH_URL;
    if (node) {
      const os = new OpenSearchStore(options(node, `stixgate-ledgerpush-${Date.now().toString(36)}`, 5000, '1s'));
      await os.open();
      try {
        const m = Math.max(5_000, Math.round(n / 10));
        await fill(os, m);
        rows.push(...(await compare('opensearch', os, m, dir)));
      } finally {
        await os.destroy();
        await os.close();
      }
    } else rows.push({ workload: 'LEDGER-PUSH', what: 'opensearch', note: 'skipped: STIXGATE_OPENSEARCH_URL not set' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}
