/**
 * Delivery ledger size (docs/adr/0019-delivery-ledger.md): n values (1M at scale 1) × 3 sinks in
 * the embedded store's ledger, written through `commitDeliveries` in batches as the sink runner
 * writes them (a realistic mix: mostly present, some withheld by a warninglist entry or a score,
 * some removed, a few rejected with a vendor message; contributions from a few dozen source
 * combinations). Reports the bytes the ledger's tables and indexes take per (value, sink) and per
 * value (SQLite's dbstat), the write rate and the read latency of one value's answer; the peer is
 * the same rows kept naively, one TEXT row per (sink, value) with the JSON of the entry keyed by
 * the value's text, measured the same way.
 */
import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { openEmbeddedStore } from '../src/store/embedded/index.js';
import type { LedgerUpdate } from '../src/store/ledger.js';
import type { Store } from '../src/store/contract.js';
import { NOW, tmp } from './ingest-kit.js';
import { peakRssMb, prng, round, type Row } from './lib.js';
import { must } from '../test/helpers/must.js';

export const SINKS = ['splunk_es', 'qradar', 'xsoar'];
const SOURCES = ['abuse_ch', 'misp_partner', 'otx', 'circl', 'internal', 'taxii_isac'];
const TLPS = ['clear', 'green', 'amber'];

export function ip(i: number): string {
  const n = (0x0c000000 + i) >>> 0;
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

export function keyOf(value: string): string {
  return createHash('sha1').update(`ipv4-addr:${value}`).digest('hex');
}

/** One (value, sink) update of the mix. */
export function updateOf(i: number, sink: number, rand: () => number): LedgerUpdate {
  const combo = [
    must(SOURCES[i % SOURCES.length], 'SOURCES[i % SOURCES.length]'),
    ...(i % 3 === 0 ? [must(SOURCES[(i + 1) % SOURCES.length], 'SOURCES[(i + 1) % SOURCES.length]')] : []),
  ];
  const contributions = combo
    .map((s, k) => `${s}=${TLPS[(i + k) % TLPS.length]}`)
    .sort()
    .join(',');
  const base = { key: keyOf(ip(i)), seq: i + 1, score: 40 + (i % 60), threshold: sink === 1 ? 50 : 0, contributions };
  const r = rand();
  if (r < 0.8) return { ...base, state: 'present', reason: 'pushed' };
  if (r < 0.9)
    return {
      ...base,
      state: 'withheld',
      reason: 'warninglist',
      detail: `List of known IPv4 public DNS resolvers: ${ip(i % 50)}`,
    };
  if (r < 0.95) return { ...base, state: 'removed', reason: 'expired' };
  if (r < 0.99) return { ...base, state: 'withheld', reason: 'score' };
  return {
    ...base,
    state: 'rejected',
    reason: 'vendor',
    detail: `400 Bad Request: value ${ip(i)} is not a valid indicator for this reference set`,
  };
}

function tableBytes(file: string, tables: string[]): number {
  const db = new Database(file, { readonly: true });
  try {
    const names = db
      .prepare(`SELECT name FROM sqlite_master WHERE tbl_name IN (${tables.map(() => '?').join(',')})`)
      .pluck()
      .all(...tables) as string[];
    return Number(
      db
        .prepare(`SELECT sum(pgsize) FROM dbstat WHERE name IN (${names.map(() => '?').join(',')})`)
        .pluck()
        .get(...names),
    );
  } finally {
    db.close();
  }
}

/** Writes the mix for n values × every sink through commitDeliveries, batches with the cursor; returns the seconds taken. */
export async function writeMix(
  store: Required<Pick<Store, 'commitDeliveries'>>,
  n: number,
  batch: number,
  rand: () => number,
): Promise<number> {
  const started = performance.now();
  for (let s = 0; s < SINKS.length; s++) {
    for (let i = 0; i < n; i += batch) {
      const updates: LedgerUpdate[] = [];
      for (let j = i; j < Math.min(n, i + batch); j++) updates.push(updateOf(j, s, rand));
      await store.commitDeliveries(
        must(SINKS[s], 'SINKS[s]'),
        updates,
        { name: `sink:${SINKS[s]}`, value: String(i + batch) },
        NOW,
      );
    }
  }
  return (performance.now() - started) / 1000;
}

/** The latency (ms, sorted) of `count` random values' answers, each checked to hold every sink's row. */
export async function readLatencies(
  store: Required<Pick<Store, 'deliveries'>>,
  n: number,
  count: number,
  rand: () => number,
): Promise<number[]> {
  const lat: number[] = [];
  for (let k = 0; k < count; k++) {
    const v = ip(Math.floor(rand() * n));
    const t0 = performance.now();
    const r = await store.deliveries([keyOf(v)], v);
    lat.push(performance.now() - t0);
    if (r.rows.length !== SINKS.length) throw new Error(`${v}: ${r.rows.length} rows`);
  }
  return lat.sort((a, b) => a - b);
}

export async function runLedgerBench(o: { scale: number }): Promise<Row[]> {
  const n = Math.max(10_000, Math.round(1_000_000 * o.scale));
  const dir = tmp('ledger');
  const rows: Row[] = [];
  try {
    const store = await openEmbeddedStore({ dataDir: join(dir, 'data') });
    const rand = prng(42);
    const batch = 5000;
    const writeSecs = await writeMix(store, n, batch, rand);
    // one value's answer: every sink's row plus the value's last change (no objects here: the key tables' miss path)
    const lat = await readLatencies(store, n, 20_000, rand);
    await store.close();
    const file = join(dir, 'data', 'stixgate.db');
    const bytes = tableBytes(file, ['ledger', 'ledger_strings']);
    const entries = n * SINKS.length;

    // the peer: the same entries as JSON text keyed by (sink, value text)
    const naiveFile = join(dir, 'naive.db');
    const naive = new Database(naiveFile);
    naive.pragma('page_size = 16384');
    naive.pragma('journal_mode = WAL');
    naive.exec(
      'CREATE TABLE ledger (sink TEXT NOT NULL, value TEXT NOT NULL, entry TEXT NOT NULL, PRIMARY KEY (value, sink)) WITHOUT ROWID',
    );
    const ins = naive.prepare('INSERT INTO ledger (sink, value, entry) VALUES (?, ?, ?)');
    const rand2 = prng(42);
    for (let s = 0; s < SINKS.length; s++) {
      for (let i = 0; i < n; i += batch) {
        naive.transaction(() => {
          for (let j = i; j < Math.min(n, i + batch); j++) {
            const u = updateOf(j, s, rand2);
            const { key: _key, ...entry } = u;
            ins.run(
              must(SINKS[s], 'SINKS[s]'),
              ip(j),
              JSON.stringify({ ...entry, since: new Date(NOW).toISOString(), sources: u.contributions.split(',') }),
            );
          }
        })();
      }
    }
    naive.pragma('wal_checkpoint(TRUNCATE)');
    naive.close();
    const naiveBytes = tableBytes(naiveFile, ['ledger']);

    rows.push({
      workload: 'LEDGER',
      what: `delivery ledger, ${n} values × ${SINKS.length} sinks (tables + indexes, dbstat)`,
      items: entries,
      seconds: round(writeSecs),
      rate: Math.round(entries / writeSecs),
      peak_rss_mb: peakRssMb(),
      ratio: `${round(bytes / entries, 1)} B per (value, sink), ${round(bytes / n, 1)} B per value; naive JSON rows: ${round(naiveBytes / entries, 1)} B per (value, sink) (${round(naiveBytes / bytes, 2)}×)`,
      note: `${round(bytes / 1048576, 1)} MiB; writes through commitDeliveries in batches of ${batch} with the cursor`,
    });
    rows.push({
      workload: 'LEDGER',
      what: "one value's rows, every sink (store.deliveries)",
      items: lat.length,
      p50_ms: round(must(lat[Math.floor(lat.length * 0.5)], 'lat[Math.floor(lat.length * 0.5)]'), 3),
      p99_ms: round(must(lat[Math.floor(lat.length * 0.99)], 'lat[Math.floor(lat.length * 0.99)]'), 3),
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}
