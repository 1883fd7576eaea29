/**
 * The delivery ledger on the OpenSearch store (docs/deliveries.md): the same mix of updates as the
 * embedded LEDGER bench (w-ledger.ts), n values (1M at scale 1) × 3 sinks written through
 * `commitDeliveries` in batches of 5,000 with the cursor, as the sink runner writes them. Reports
 * the write rate, the bytes per (value, sink) of the ledger index after a force-merge to one
 * segment (primary store size), and the latency of one value's answer (`store.deliveries`).
 * Needs STIXGATE_OPENSEARCH_URL.
 */
import { OpenSearchStore } from '../src/store/opensearch/index.js';
import { peakRssMb, prng, round, type Row } from './lib.js';
import { options } from './w14-opensearch.js';
import { SINKS, readLatencies, writeMix } from './w-ledger.js';
import { must } from '../test/helpers/must.js';

export async function runLedgerOpenSearchBench(o: { scale: number }): Promise<Row[]> {
  const node = process.env.STIXGATE_OPENSEARCH_URL;
  if (!node)
    return [
      {
        workload: 'LEDGER-OS',
        what: 'delivery ledger on OpenSearch',
        note: 'skipped: STIXGATE_OPENSEARCH_URL not set',
      },
    ];
  const n = Math.max(10_000, Math.round(1_000_000 * o.scale));
  const prefix = `stixgate-ledger-${Date.now().toString(36)}`;
  const store = new OpenSearchStore(options(node, prefix, 5000, '1s'));
  await store.open();
  const rows: Row[] = [];
  try {
    const rand = prng(42);
    const batch = 5000;
    const writeSecs = await writeMix(store, n, batch, rand);
    const entries = n * SINKS.length;
    const lat = await readLatencies(store, n, 2000, rand);
    const client = (store as unknown as { client: import('@opensearch-project/opensearch').Client }).client;
    const index = `${prefix}-ledger`;
    await client.indices.forcemerge({ index, max_num_segments: 1 } as never);
    await client.indices.refresh({ index });
    const st = await client.indices.stats({ index, metric: 'store' as never });
    const bytes = (st.body as { _all: { primaries: { store: { size_in_bytes: number } } } })._all.primaries.store
      .size_in_bytes;
    rows.push({
      workload: 'LEDGER-OS',
      what: `delivery ledger on OpenSearch, ${n} values × ${SINKS.length} sinks (index after force-merge)`,
      items: entries,
      seconds: round(writeSecs),
      rate: Math.round(entries / writeSecs),
      peak_rss_mb: peakRssMb(),
      ratio: `${round(bytes / entries, 1)} B per (value, sink), ${round(bytes / n, 1)} B per value`,
      note: `${round(bytes / 1048576, 1)} MiB; commitDeliveries in batches of ${batch} with the cursor (mget, bulk, cursor)`,
    });
    rows.push({
      workload: 'LEDGER-OS',
      what: "one value's rows, every sink (store.deliveries)",
      items: lat.length,
      p50_ms: round(must(lat[Math.floor(lat.length * 0.5)], 'p50'), 3),
      p99_ms: round(must(lat[Math.floor(lat.length * 0.99)], 'p99'), 3),
    });
  } finally {
    await store.destroy();
    await store.close();
  }
  return rows;
}
