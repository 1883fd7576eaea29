/**
 * Ingest throughput with an enricher job running concurrently vs without (one process, as in the
 * daemon). Usage: npx tsx bench/enrich-ingest.ts [indicators=60000] [rounds=2] [batch=2000] [fetch_ms=10]
 *
 * Three modes, interleaved per round to spread machine noise:
 *   off        ingest only
 *   free-tier  + AbuseIPDB enricher on its simulator with the free quota (1,000/day)
 *   unlimited  + the same enricher with no quota, 4 lookups in flight, a run every 200 ms
 *
 * Ingest is paced like a source: pages of `batch` indicators, each after `fetch_ms` of waiting for
 * the network; the enricher works in those gaps (one event loop, as in the daemon).
 */
import { AbuseIpdbSimulator } from '../integrations/abuseipdb/simulator.js';
import { abuseipdbEnricher } from '../integrations/abuseipdb/index.js';
import { indicatorFor } from '../test/store/fixtures.js';
import { silentLogger } from '../src/telemetry/logger.js';
import { EnrichCache } from '../src/enrich/records.js';
import { runEnricher } from '../src/enrich/runner.js';
import { loopbackHttp, tempStore } from '../test/helpers/enrich-loopback.js';
import type { Quota } from '../src/enrich/quota.js';
import { must } from '../test/helpers/must.js';

const N = Number(process.argv[2] ?? 60_000);
const ROUNDS = Number(process.argv[3] ?? 2);
const BATCH = Number(process.argv[4] ?? 2_000);
/** Time a source waits for its next page (the network), during which other jobs run. */
const FETCH_MS = Number(process.argv[5] ?? 10);

async function measure(mode: 'off' | 'free-tier' | 'unlimited'): Promise<{ perSec: number; lookups: number }> {
  const t = await tempStore();
  const sim = new AbuseIpdbSimulator({ perDay: 1_000_000 });
  const { base } = await sim.start();
  const http = loopbackHttp('bench');
  const enricher = abuseipdbEnricher.create(
    { url: base, api_key: 'test-key', max_age_days: 90 },
    { logger: silentLogger(), configDir: '.', mappingsDir: '.' },
  );
  const quota: Quota = mode === 'free-tier' ? { per_day: 1000 } : {};
  const cache = new EnrichCache(10_000);
  let stop = false;
  let lookups = 0;
  const ac = new AbortController();
  const job = (async () => {
    if (mode === 'off') return;
    while (!stop) {
      const s = await runEnricher({
        id: 'bench',
        enricher,
        store: t.store,
        http,
        logger: silentLogger(),
        now: () => Date.now(),
        signal: ac.signal,
        quota,
        cacheTtlMs: 86_400_000,
        maxPerRun: 1_000_000,
        maxRunMs: 600_000,
        concurrency: mode === 'unlimited' ? 4 : 1,
        cache,
      });
      lookups += s.lookups;
      await new Promise((r) => setTimeout(r, 200));
    }
  })();
  const start = performance.now();
  for (let i = 0; i < N; i += BATCH) {
    const items = [];
    for (let n = i; n < Math.min(N, i + BATCH); n++)
      items.push({ object: indicatorFor(n + 1), source: 'feed', confidence: 50 });
    await t.store.upsert(items, { now: Date.now() });
    await new Promise((r) => setTimeout(r, FETCH_MS)); // the source waits for its next page
  }
  const secs = (performance.now() - start) / 1000;
  stop = true;
  ac.abort();
  await job;
  await http.close();
  await sim.close();
  await t.cleanup();
  return { perSec: N / secs, lookups };
}

const results: Record<string, number[]> = { off: [], 'free-tier': [], unlimited: [] };
const lookups: Record<string, number[]> = { off: [], 'free-tier': [], unlimited: [] };
for (let r = 0; r < ROUNDS; r++) {
  for (const mode of ['off', 'free-tier', 'unlimited'] as const) {
    const m = await measure(mode);
    must(results[mode], 'results[mode]').push(m.perSec);
    must(lookups[mode], 'lookups[mode]').push(m.lookups);
  }
}
const median = (xs: number[]): number =>
  must(
    [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)],
    '[...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]',
  );
const off = median(must(results.off, 'results.off'));
for (const mode of Object.keys(results)) {
  const v = median(must(results[mode], 'results[mode]'));
  console.log(
    `${mode.padEnd(10)} ${Math.round(v).toString().padStart(8)} indicators/s  (${must(results[mode], 'results[mode]')
      .map((x) => Math.round(x))
      .join(
        ', ',
      )})  lookups during ingest: ${must(lookups[mode], 'lookups[mode]').join(', ')}  ${mode === 'off' ? '' : `${((v / off - 1) * 100).toFixed(1)}% vs off`}`,
  );
}
