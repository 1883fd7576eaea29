/**
 * A writer process for the change-log tests and the W14c benchmark: opens the OpenSearch store
 * with the given prefix and writes `batches` upserts of `size` new indicators (ids from its
 * writer number), printing `ack <batch>` after each one is acknowledged.
 *
 *   node --import tsx test/integration/changelog-writer.ts <url> <prefix> <writer> <batches> <size> [ttl_secs]
 */
import { OpenSearchStore } from '../../src/store/opensearch/index.js';
import { T0, indicatorFor } from '../store/fixtures.js';
import { storeOptions } from './opensearch-helpers.js';

const [url, prefix, writerArg, batchesArg, sizeArg, ttlArg] = process.argv.slice(2);
const writer = Number(writerArg);
const batches = Number(batchesArg);
const size = Number(sizeArg);

const store = new OpenSearchStore({
  ...storeOptions({ node: url, index_prefix: prefix, sequence_ttl_secs: Number(ttlArg ?? 5) }),
  refreshBeforeChanges: false,
});
await store.open();
process.stdout.write('ready\n');
for (let b = 0; b < batches; b++) {
  const items = Array.from({ length: size }, (_, i) => ({
    object: indicatorFor(writer * 1_000_000 + b * size + i),
    source: `writer-${writer}`,
  }));
  const r = await store.upsert(items, { now: T0 });
  if (r.created !== size) throw new Error(`writer ${writer}: batch ${b} created ${r.created} of ${size}`);
  process.stdout.write(`ack ${b}\n`);
}
await store.close();
process.stdout.write('done\n');
