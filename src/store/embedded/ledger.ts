import type Database from 'better-sqlite3';
import { LEDGER_REASONS, LEDGER_STATES, ledgerValueKey, type LedgerRow, type LedgerUpdate } from '../ledger.js';
import { at } from '../../core/indexed.js';

/** Interned strings kept in memory (sink ids, contribution lists, list entries; vendor messages beyond it are read back). */
const MAX_CACHED_STRINGS = 50_000;

type RawRow = [
  vkey: bigint,
  sink: number,
  state: number,
  reason: number,
  since: number,
  seq: number,
  score: number | null,
  threshold: number,
  sources: number,
  detail: number | null,
];

/**
 * The embedded store's delivery ledger (docs/adr/0019-delivery-ledger.md): the `ledger` table, one
 * WITHOUT ROWID row of small integers per (value key, sink), and `ledger_strings`, the interned
 * strings the rows point to. Writes run inside the caller's transaction (the one that commits the
 * sink's cursor). `since` moves only when the state or reason changes.
 */
export class LedgerTable {
  private readonly ids = new Map<string, number>();
  private readonly texts = new Map<number, string>();
  private readonly s;

  constructor(db: Database.Database) {
    this.s = {
      findString: db.prepare<unknown[], number>('SELECT id FROM ledger_strings WHERE text = ?').pluck(),
      addString: db.prepare('INSERT INTO ledger_strings (text) VALUES (?)'),
      textOf: db.prepare<unknown[], string>('SELECT text FROM ledger_strings WHERE id = ?').pluck(),
      put: db.prepare(`INSERT INTO ledger (vkey, sink, state, reason, since, seq, score, threshold, sources, detail)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (vkey, sink) DO UPDATE SET
          since = CASE WHEN state = excluded.state AND reason = excluded.reason THEN since ELSE excluded.since END,
          state = excluded.state, reason = excluded.reason,
          seq = CASE WHEN excluded.seq = 0 THEN seq ELSE excluded.seq END,
          score = excluded.score, threshold = excluded.threshold, sources = excluded.sources, detail = excluded.detail`),
      // a soft update (a value the sink skips) leaves a row that says the sink holds it alone
      putSoft: db.prepare(`INSERT INTO ledger (vkey, sink, state, reason, since, seq, score, threshold, sources, detail)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (vkey, sink) DO UPDATE SET
          since = CASE WHEN state = excluded.state AND reason = excluded.reason THEN since ELSE excluded.since END,
          state = excluded.state, reason = excluded.reason, seq = excluded.seq,
          score = excluded.score, threshold = excluded.threshold, sources = excluded.sources, detail = excluded.detail
        WHERE state <> ${LEDGER_STATES.indexOf('present')}`),
      rowsOf: db
        .prepare<unknown[], RawRow>(
          'SELECT vkey, sink, state, reason, since, seq, score, threshold, sources, detail FROM ledger WHERE vkey = ?',
        )
        .raw()
        .safeIntegers(true),
      count: db.prepare<unknown[], number>('SELECT count(*) FROM ledger').pluck(),
    };
  }

  /** The id of an interned string, adding it when new (inside the caller's transaction). */
  intern(text: string): number {
    const known = this.ids.get(text);
    if (known !== undefined) return known;
    let id = this.s.findString.get(text);
    if (id === undefined) id = Number(this.s.addString.run(text).lastInsertRowid);
    this.remember(id, text);
    return id;
  }

  private remember(id: number, text: string): void {
    if (this.ids.size >= MAX_CACHED_STRINGS) return;
    this.ids.set(text, id);
    this.texts.set(id, text);
  }

  /** The text of an interned string id. */
  text(id: number): string {
    const known = this.texts.get(id);
    if (known !== undefined) return known;
    const t = this.s.textOf.get(id) ?? '';
    this.remember(id, t);
    return t;
  }

  /** Writes the updates of one sink (call inside a transaction). */
  write(sink: string, updates: readonly LedgerUpdate[], nowMs: number): void {
    const sinkId = this.intern(sink);
    const since = Math.floor(nowMs / 1000);
    for (const u of updates) {
      (u.soft ? this.s.putSoft : this.s.put).run(
        ledgerValueKey(u.key),
        sinkId,
        LEDGER_STATES.indexOf(u.state),
        LEDGER_REASONS.indexOf(u.reason),
        since,
        u.seq,
        u.score,
        u.threshold,
        this.intern(u.contributions),
        u.detail === undefined ? null : this.intern(u.detail),
      );
    }
  }

  /**
   * The rows of these record keys, every sink. Any cached string map is forgotten when a
   * transaction that interned strings rolled back (`forget`), so ids read here are always committed.
   */
  read(keys: readonly string[]): LedgerRow[] {
    const out: LedgerRow[] = [];
    for (const key of keys) {
      for (const r of this.s.rowsOf.all(ledgerValueKey(key))) {
        const detail = r[9] === null ? undefined : this.text(Number(r[9]));
        out.push({
          key,
          sink: this.text(Number(r[1])),
          state: at(LEDGER_STATES, Number(r[2])),
          reason: at(LEDGER_REASONS, Number(r[3])),
          since: Number(r[4]) * 1000,
          seq: Number(r[5]),
          score: r[6] === null ? null : Number(r[6]),
          threshold: Number(r[7]),
          contributions: this.text(Number(r[8])),
          ...(detail !== undefined ? { detail } : {}),
        });
      }
    }
    return out;
  }

  /** Forgets the cached strings (after a rolled-back transaction, whose new ids no longer exist). */
  forget(): void {
    this.ids.clear();
    this.texts.clear();
  }

  rows(): number {
    return this.s.count.get() ?? 0;
  }
}
