/**
 * `npm run bench -- mapshard` (on demand, not in the default run: it holds ~17M values in memory).
 * One JavaScript Map holds at most 2^24 = 16,777,216 entries; the lookup index shards its maps
 * (src/core/sharded-map.ts). This lists more IPv4 addresses than that in one index (scale 1:
 * 17.5M; the scale multiplies it), reports the heap and RSS per listed value and the lookup rate
 * for hits and misses, and as the peer shows where a plain Map stops.
 */
import { loadavg } from 'node:os';
import { formatIpv4 } from '../src/core/ip-address.js';
import { indicatorFromObservable } from '../src/core/indicator.js';
import { MAP_ENTRY_LIMIT } from '../src/core/sharded-map.js';
import { LookupIndex } from '../src/lookup/index.js';
import type { Indicator } from '../src/core/stix.js';
import { isoDaysBefore } from './clock.js';
import { NOW } from './ingest-kit.js';
import { peakRssMb, round, type Row } from './lib.js';

const MB = 1048576;
const load = (): string =>
  loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');
const address = (i: number): number => (0x0b000000 + ((i * 2654435761) % 0xd4000000)) >>> 0;

/** How many entries a plain Map takes before V8 refuses the next one. */
function plainMapCeiling(): number {
  const m = new Map<number, number>();
  try {
    for (let i = 0; i < MAP_ENTRY_LIMIT + 10; i++) m.set(i, i);
  } catch (e) {
    if (!(e instanceof RangeError)) throw e;
  }
  return m.size;
}

export async function runMapShard({ scale }: { scale: number }): Promise<Row[]> {
  const n = Math.max(1000, Math.round(17_500_000 * scale));
  const rows: Row[] = [];
  const load0 = load();
  const ceiling = plainMapCeiling();
  rows.push({
    workload: 'MAPSHARD',
    what: 'peer: one plain Map<number, number>, filled until V8 refuses',
    items: ceiling,
    note: `RangeError after ${ceiling} entries (2^24 = ${MAP_ENTRY_LIMIT})`,
  });
  globalThis.gc?.();
  const heap0 = process.memoryUsage();
  const index = new LookupIndex({ now: () => NOW });
  // one template indicator per address: the index keeps per-indicator data in its slot columns,
  // so the object is read once at listing and not held (it would be the store's memory, not the index's)
  const seen = { first_seen: isoDaysBefore(31), last_seen: isoDaysBefore(2), tlp: 'clear' as const };
  const template: Indicator = {
    ...indicatorFromObservable(
      { type: 'ipv4-addr', value: '11.0.0.1', cidr: false },
      { now: isoDaysBefore(31), labels: ['botnet'] },
    ),
    x_stixgate: { sources: { bench: seen }, score: 70 },
  };
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const value = formatIpv4(address(i));
    const id = `indicator--${(i >>> 0).toString(16).padStart(8, '0')}-0000-5000-8000-000000000000`;
    index.load({ seq: i + 1, id, object: { ...template, id }, observables: [{ type: 'ipv4-addr', value }] });
    if (i % 1_000_000 === 999_999) process.stderr.write(`mapshard: ${i + 1} listed (load ${load()})\n`);
  }
  const buildSecs = (performance.now() - t0) / 1000;
  globalThis.gc?.();
  const heap1 = process.memoryUsage();
  const parts = index.parts();
  const listed = index.sizes().ipv4;
  const shards = parts.ipv4.shardSizes();
  const perValue = (heap1.heapUsed + heap1.arrayBuffers - heap0.heapUsed - heap0.arrayBuffers) / listed;
  rows.push({
    workload: 'MAPSHARD',
    what: `${listed} IPv4 values in one index (${shards.length} shards: ${shards.join(', ')})`,
    items: listed,
    seconds: round(buildSecs),
    rate: Math.round(listed / buildSecs),
    peak_rss_mb: peakRssMb(),
    target: `> ${MAP_ENTRY_LIMIT} entries of one type`,
    ratio: `${round(listed / MAP_ENTRY_LIMIT, 3)}× the Map limit`,
    note: `heap + array buffers ${round(perValue, 1)} B per listed value (${Math.round((heap1.heapUsed + heap1.arrayBuffers) / MB)} MB); load ${load0} → ${load()}`,
  });
  for (const kind of ['hits', 'misses'] as const) {
    const probes = 500_000;
    let found = 0;
    const t1 = performance.now();
    for (let k = 0; k < probes; k++) {
      // hits sample every shard (the last one costs the most probes); misses are never listed
      const i = kind === 'hits' ? (k * 7919) % n : n + k;
      if (index.lookup(formatIpv4(address(i)), NOW, 'red').matched) found++;
    }
    const secs = (performance.now() - t1) / 1000;
    if (kind === 'hits' ? found !== probes : found !== 0)
      throw new Error(`mapshard: ${found} of ${probes} ${kind} matched`);
    rows.push({
      workload: 'MAPSHARD',
      what: `single lookups, ${kind}, ${shards.length} shards`,
      items: probes,
      seconds: round(secs),
      rate: Math.round(probes / secs),
      note: `load ${load()}`,
    });
  }
  return rows;
}
