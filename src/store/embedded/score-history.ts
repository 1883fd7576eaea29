import type Database from 'better-sqlite3';
import { stixTime } from '../../core/stix.js';
import { SCORE_HISTORY_CAP, SCORE_REASONS, stringList, type ScoreHistoryEntry } from '../score-history.js';

/** Interned strings (the delivery ledger's `ledger_strings`, shared). */
export interface StringTable {
  intern(text: string): number;
  text(id: number): string;
}

/**
 * The embedded store's score history (docs/adr/0026-score-history.md): `score_history`, one
 * WITHOUT ROWID row of small integers per score change, keyed by (objects.rowid, change-log seq),
 * so one object's entries are one range read in write order. Contribution lists are ids of
 * interned JSON arrays. Writes run inside the caller's transaction (the object's own write) and
 * trim the object's entries to the newest SCORE_HISTORY_CAP.
 */
export class ScoreHistoryTable {
  private readonly s;
  private readonly reasonCode = new Map<string, number>(SCORE_REASONS.map((r, i) => [r, i]));

  constructor(
    db: Database.Database,
    private readonly strings: StringTable,
    private readonly cap = SCORE_HISTORY_CAP,
  ) {
    this.s = {
      put: db.prepare(
        'INSERT OR REPLACE INTO score_history (obj, seq, at, score, previous, reason, sources, contributors) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      // beyond the cap: everything at or before the cap-th newest's predecessor
      trim: db.prepare(`DELETE FROM score_history WHERE obj = ? AND seq <=
        (SELECT seq FROM score_history WHERE obj = ? ORDER BY seq DESC LIMIT 1 OFFSET ?)`),
      rowsOf: db
        .prepare(
          'SELECT at, score, previous, reason, sources, contributors FROM score_history WHERE obj = ? ORDER BY seq',
        )
        .raw(),
    };
  }

  /** Records one change of the object at `obj` (its rowid), written as change `seq` (call inside a transaction). */
  write(obj: number, seq: number, e: ScoreHistoryEntry): void {
    this.s.put.run(
      obj,
      seq,
      Math.floor(Date.parse(e.at) / 1000),
      e.score,
      e.previous,
      this.reasonCode.get(e.reason) ?? 0,
      this.strings.intern(JSON.stringify(e.sources)),
      this.strings.intern(JSON.stringify(e.contributors)),
    );
    this.s.trim.run(obj, obj, this.cap);
  }

  /** The object's entries, oldest first. */
  read(obj: number): ScoreHistoryEntry[] {
    // raw rows: [at, score, previous, reason, sources, contributors], all integers
    return this.s.rowsOf.all(obj).flatMap((row): ScoreHistoryEntry[] => {
      if (!Array.isArray(row)) return [];
      const [at, score, previous, reason, sources, contributors] = row.map(Number);
      return [
        {
          at: stixTime((at ?? 0) * 1000),
          score: score ?? 0,
          previous: previous ?? 0,
          reason: SCORE_REASONS[reason ?? 0] ?? 'decay',
          sources: this.list(sources ?? 0),
          contributors: this.list(contributors ?? 0),
        },
      ];
    });
  }

  private list(id: number): string[] {
    try {
      return stringList(JSON.parse(this.strings.text(id)));
    } catch {
      return [];
    }
  }
}
