/**
 * FAULTS A9: a flood from one API key must not slow the others. The server runs with the
 * default per-key limit (50 requests/s, burst 100) and an address limit high enough for two load
 * generators on one loopback address. A victim key sends single lookups at a steady rate, first
 * alone, then while another key floods at 1,000 requests/s (open loop, so refusals are not
 * hidden by a slowed generator). Reported: the victim's p99 in both phases and their ratio
 * (target < 2×), the flooder's accepted rate (the limit) and refused count, the server's peak RSS.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { validate } from '../src/core/schema.js';
import { LookupIndex } from '../src/lookup/index.js';
import { buildServer, hashApiKey } from '../src/server/index.js';
import { serverSchema } from '../src/server/schema.js';
import { openEmbeddedStore } from '../src/store/embedded/index.js';
import { silentLogger } from '../src/telemetry/logger.js';
import { Metrics } from '../src/telemetry/metrics.js';
import { NOW, tmp } from './ingest-kit.js';
import { loadgen, loadNote } from './loadgen-client.js';
import { peakRssMb, round, type Row } from './lib.js';

const VICTIM = 'bench-victim-key-6a1f4c2e9b';
const FLOODER = 'bench-flooder-key-3d8e7b5a1c';
const VICTIM_RPS = 40;
const FLOOD_RPS = 1000;

export async function runA9(o: { scale: number }): Promise<Row[]> {
  const secs = Math.max(3, Math.round(10 * Math.min(1, o.scale * 5)));
  const dir = tmp('a9');
  const store = await openEmbeddedStore({ dataDir: join(dir, 'store') });
  const cfg = validate(serverSchema, {
    port: 0,
    rate_limit: { per_address: { requests_per_sec: 100_000, burst: 100_000 } },
    api_keys: {
      victim: { hash: hashApiKey(VICTIM), scopes: ['lookup'] },
      flooder: { hash: hashApiKey(FLOODER), scopes: ['lookup'] },
    },
  });
  if (!cfg.ok) throw new Error(JSON.stringify(cfg.issues));
  const app = buildServer({
    config: cfg.value,
    index: new LookupIndex({ now: () => NOW }),
    store,
    metrics: new Metrics({ defaults: false }),
    logger: silentLogger(),
    isReady: () => true,
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}/api/v1/lookup?value=198.51.100.7`;
  const asKey = (k: string) => ({ authorization: `Bearer ${k}` });

  const alone = await loadgen(['open', url, String(VICTIM_RPS), String(secs)], asKey(VICTIM));
  const [victim, flood] = await Promise.all([
    loadgen(['open', url, String(VICTIM_RPS), String(secs)], asKey(VICTIM)),
    loadgen(['open', url, String(FLOOD_RPS), String(secs)], asKey(FLOODER)),
  ]);
  const rss = peakRssMb();
  await app.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  return [
    {
      workload: 'A9',
      what: `victim key, ${VICTIM_RPS} rps single lookups, alone`,
      items: alone.ok,
      rate: Math.round(alone.rps),
      p50_ms: round(alone.p50, 3),
      p99_ms: round(alone.p99, 3),
      note: loadNote(alone),
    },
    {
      workload: 'A9',
      what: `victim key, ${VICTIM_RPS} rps, while another key floods at ${FLOOD_RPS} rps`,
      items: victim.ok,
      rate: Math.round(victim.rps),
      p50_ms: round(victim.p50, 3),
      p99_ms: round(victim.p99, 3),
      peak_rss_mb: rss,
      target: 'p99 < 2× alone; RSS < 512 MB',
      ratio: `${round(victim.p99 / alone.p99)}× alone`,
      note: `victim errors ${victim.errors}; ${loadNote(victim)}`,
    },
    {
      workload: 'A9',
      what: `flooding key at ${FLOOD_RPS} rps (limit 50/s, burst 100)`,
      items: flood.ok,
      rate: Math.round(flood.rps),
      p99_ms: round(flood.p99, 3),
      note: `accepted ${flood.ok}, refused (429) ${flood.errors}; ${loadNote(flood)}`,
    },
  ];
}
