/**
 * Score history size (docs/adr/0026-score-history.md). Two parts:
 *
 * 1. Real writes at a small size: 10,000 IPv4 indicators ingested through `Store.upsert` (a third
 *    of them from a second source), then the re-score job once a day for 15 days (7-day
 *    half-life, step 5: the decay to expiry of docs/scoring.md §4): the entries the store itself
 *    derived, per indicator, and their bytes (SQLite's dbstat over `score_history`).
 * 2. The table at n indicators (1M at scale 1), written through the store's own table class
 *    (`ScoreHistoryTable`, in transactions of 5,000 indicators) with each indicator's full life
 *    as part 1 found it (one source change, then the decay) and again at the cap (16 entries):
 *    bytes per indicator and per entry, and the read latency of one indicator's history. The peer
 *    is the in-object alternative: the same entries as JSON in `x_stixgate` (the bytes they would
 *    add to every stored object, change-log entry and API view).
 */
import Database from 'better-sqlite3';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { indicatorFromObservable } from '../src/core/indicator.js';
import { detectObservable } from '../src/core/observable.js';
import type { StixObject } from '../src/core/stix.js';
import { stixTime } from '../src/core/stix.js';
import { validate } from '../src/core/schema.js';
import { compileScoring } from '../src/score/model.js';
import { scoringSchema } from '../src/score/schema.js';
import { LedgerTable } from '../src/store/embedded/ledger.js';
import { openEmbeddedStore } from '../src/store/embedded/index.js';
import { ScoreHistoryTable } from '../src/store/embedded/score-history.js';
import { rescoreStore } from '../src/store/rescore.js';
import { SCORE_HISTORY_CAP, type ScoreHistoryEntry } from '../src/store/score-history.js';
import { NOW, tmp } from './ingest-kit.js';
import { peakRssMb, prng, round, type Row } from './lib.js';
import { must } from '../test/helpers/must.js';

const DAY = 86_400_000;
const SOURCES = ['abuse_ch', 'misp_partner', 'otx', 'circl', 'internal', 'taxii_isac'];

function ip(i: number): string {
  const n = (0x0c000000 + i) >>> 0;
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

function tableBytes(file: string): number {
  const db = new Database(file, { readonly: true });
  try {
    return Number(db.prepare("SELECT sum(pgsize) FROM dbstat WHERE name = 'score_history'").pluck().get());
  } finally {
    db.close();
  }
}

function scoring() {
  const r = validate(
    scoringSchema,
    { expire_below: 20, step: 5, models: { 'ipv4-addr': { curve: 'exponential', half_life_days: 7 } } },
    'scoring',
  );
  if (!r.ok) throw new Error('scoring');
  return compileScoring(r.value);
}

/** Part 1: what the store records for real writers. */
async function realWrites(): Promise<{ perIndicator: number; bytesPerEntry: number; n: number; entries: number }> {
  const n = 10_000;
  const dir = tmp('score-history-real');
  try {
    const sc = scoring();
    const store = await openEmbeddedStore({ dataDir: join(dir, 'data'), scoring: sc });
    const objs: StixObject[] = [];
    for (let i = 0; i < n; i++) {
      const r = detectObservable(ip(i));
      if (!r.ok) throw new Error(ip(i));
      objs.push(indicatorFromObservable(r.observable, { now: stixTime(NOW) }));
    }
    for (let i = 0; i < n; i += 1000)
      await store.upsert(
        objs
          .slice(i, i + 1000)
          .map((object, k) => ({ object, source: must(SOURCES[(i + k) % 6], 'a source'), confidence: 80 })),
        { now: NOW },
      );
    const second = objs.filter((_, i) => i % 3 === 0);
    for (let i = 0; i < second.length; i += 1000)
      await store.upsert(
        second.slice(i, i + 1000).map((object) => ({ object, source: 'otx', confidence: 60 })),
        { now: NOW + 3_600_000 },
      );
    for (let d = 1; d <= 15; d++) await rescoreStore(store, sc, NOW + d * DAY);
    await store.close();
    const file = join(dir, 'data', 'stixgate.db');
    const db = new Database(file, { readonly: true });
    const entries = Number(db.prepare('SELECT count(*) FROM score_history').pluck().get());
    db.close();
    const bytes = tableBytes(file);
    return { perIndicator: entries / n, bytesPerEntry: bytes / entries, n, entries };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** One indicator's life: a second source (a third of them), then the decay until expiry, `len` entries at most. */
function lifeOf(i: number, len: number): ScoreHistoryEntry[] {
  const own = must(SOURCES[i % 6], 'a source');
  const two = i % 3 === 0;
  const contributors = two ? [own, 'otx'].sort() : [own];
  const out: ScoreHistoryEntry[] = [];
  let score = two ? 90 : 80;
  if (two) out.push({ at: stixTime(NOW), score: 90, previous: 80, reason: 'source', sources: ['otx'], contributors });
  for (let d = 1; out.length < len; d++) {
    const next = Math.round(score * 2 ** (-1 / 7));
    out.push({ at: stixTime(NOW + d * DAY), score: next, previous: score, reason: 'decay', sources: [], contributors });
    score = next;
  }
  return out;
}

/** Part 2: the table at n indicators with `len` entries each. */
function tableAt(
  n: number,
  len: number,
  dir: string,
): Promise<{ bytes: number; seconds: number; peerBytes: number; lat: number[] }> {
  return (async () => {
    const data = join(dir, `data-${len}`);
    await (await openEmbeddedStore({ dataDir: data })).close(); // the schema
    const db = new Database(join(data, 'stixgate.db'));
    db.pragma('journal_mode = WAL');
    const history = new ScoreHistoryTable(db, new LedgerTable(db));
    let peerBytes = 0;
    let seq = 0;
    const started = performance.now();
    for (let i = 0; i < n; i += 5000) {
      db.transaction(() => {
        for (let j = i; j < Math.min(n, i + 5000); j++) {
          const life = lifeOf(j, len);
          for (const e of life) history.write(j + 1, ++seq, e);
          peerBytes += Buffer.byteLength(`,"score_history":${JSON.stringify(life)}`);
        }
      })();
    }
    const seconds = (performance.now() - started) / 1000;
    const rand = prng(7);
    const lat: number[] = [];
    for (let k = 0; k < 20_000; k++) {
      const obj = 1 + Math.floor(rand() * n);
      const t0 = performance.now();
      const got = history.read(obj);
      lat.push(performance.now() - t0);
      if (got.length !== Math.min(len, SCORE_HISTORY_CAP)) throw new Error(`${obj}: ${got.length} entries`);
    }
    db.pragma('wal_checkpoint(TRUNCATE)');
    db.close();
    return { bytes: tableBytes(join(data, 'stixgate.db')), seconds, peerBytes, lat: lat.sort((a, b) => a - b) };
  })();
}

export async function runScoreHistoryBench(o: { scale: number }): Promise<Row[]> {
  const n = Math.max(10_000, Math.round(1_000_000 * o.scale));
  const rows: Row[] = [];
  const real = await realWrites();
  rows.push({
    workload: 'HISTORY',
    what: `score history written by the store: ${real.n} IPv4 indicators, ingest + a second source for a third, 15 daily re-scores (7-day half-life, step 5)`,
    items: real.entries,
    ratio: `${round(real.perIndicator, 2)} entries per indicator, ${round(real.bytesPerEntry, 1)} B per entry`,
  });
  const len = Math.round(real.perIndicator);
  const dir = tmp('score-history');
  try {
    for (const entries of [len, SCORE_HISTORY_CAP]) {
      const t = await tableAt(n, entries, dir);
      const total = n * entries;
      rows.push({
        workload: 'HISTORY',
        what: `score_history table, ${n} indicators × ${entries} entries${entries === SCORE_HISTORY_CAP ? ' (the cap)' : ' (a whole IPv4 decay)'} (dbstat)`,
        items: total,
        seconds: round(t.seconds),
        rate: Math.round(total / t.seconds),
        peak_rss_mb: peakRssMb(),
        ratio: `${round(t.bytes / n, 1)} B per indicator, ${round(t.bytes / total, 1)} B per entry; as JSON in x_stixgate: ${round(t.peerBytes / n, 1)} B per indicator (${round(t.peerBytes / t.bytes, 2)}×)`,
        note: `${round(t.bytes / 1048576, 1)} MiB; written through ScoreHistoryTable.write (insert + trim) in transactions of 5000 indicators`,
      });
      rows.push({
        workload: 'HISTORY',
        what: `one indicator's history of ${entries} entries (ScoreHistoryTable.read)`,
        items: t.lat.length,
        p50_ms: round(must(t.lat[Math.floor(t.lat.length * 0.5)], 'p50'), 3),
        p99_ms: round(must(t.lat[Math.floor(t.lat.length * 0.99)], 'p99'), 3),
      });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}
