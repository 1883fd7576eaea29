import type Database from 'better-sqlite3';
import type { LinkDoc, LinkImage } from '../store/opensearch/links.js';

/**
 * The rows of the SQLite correlation index (db.ts) as documents of the shared links index, and
 * back. Each table's columns map to document fields (renamed where two tables share a column
 * name with different types); `_id` is `<table>:<primary key>`.
 */
interface Table {
  t: string;
  /** [column, field] */
  cols: [string, string][];
  pk: string[];
  /** Extra read-only fields joined in for readers (never loaded back). */
  select?: string;
}

const same = (...cols: string[]): [string, string][] => cols.map((c) => [c, c]);

const TABLES: Table[] = [
  { t: 'node', cols: same('n', 'id', 'type', 'state', 'tlp', 'name'), pk: ['n'] },
  { t: 'val', cols: same('v', 'key', 'holders', 'fan', 'capped'), pk: ['v'] },
  {
    t: 'hold',
    cols: same('v', 'n'),
    pk: ['v', 'n'],
    // readers list a value's holders with their type, and a node's values with their key
    select:
      'SELECT h.v AS v, h.n AS n, x.type AS type, l.key AS key FROM hold h JOIN node x ON x.n = h.n JOIN val l ON l.v = h.v WHERE h.v = ? AND h.n = ?',
  },
  { t: 'ip4', cols: same('addr', 'v'), pk: ['addr'] },
  {
    t: 'ip6',
    cols: [
      ['addr', 'x6'],
      ['v', 'v'],
    ],
    pk: ['addr'],
  },
  { t: 'cidrlen', cols: same('family', 'len'), pk: ['family', 'len'] },
  { t: 'host', cols: same('rh', 'v'), pk: ['rh', 'v'] },
  { t: 'vlink', cols: same('a', 'kind', 'b', 'owner'), pk: ['a', 'kind', 'b', 'owner'] },
  { t: 'edge', cols: same('a', 'kind', 'b', 'owner'), pk: ['a', 'kind', 'b', 'owner'] },
  {
    t: 'meta',
    cols: [
      ['k', 'mk'],
      ['v', 'mv'],
    ],
    pk: ['k'],
  },
  { t: 'dict', cols: same('k', 'name'), pk: ['k'] },
  {
    t: 'counter',
    cols: [
      ['name', 'mk'],
      ['n', 'cnt'],
    ],
    pk: ['name'],
  },
];

/** Primary-key columns holding text (the others hold integers, or bytes for ip6). */
const TEXT_KEYS = new Set(['host.rh', 'meta.k', 'counter.name']);
const BY_NAME = new Map(TABLES.map((t) => [t.t, t]));
/** Separates primary-key parts in ids (never part of a host name, a meta key or a number). */
const SEP = '|';

/** The SQL expression of a row's document id in a trigger (`ref` = NEW or OLD). */
function idExpr(t: Table, ref: string): string {
  const parts = t.pk.map((c) => (t.t === 'ip6' && c === 'addr' ? `hex(${ref}.${c})` : `${ref}.${c}`));
  return `'${t.t}:' || ${parts.join(` || '${SEP}' || `)}`;
}

/**
 * Records the ids of the rows every statement on this connection inserts, updates or deletes
 * (TEMP triggers into a TEMP table: they live as long as the connection, never in the file).
 * The triggers test for the id rather than INSERT OR IGNORE: inside a trigger fired by an
 * upsert, the outer statement's conflict policy (abort) would override the trigger's.
 */
export function installMirrorTriggers(db: Database.Database): void {
  db.exec('CREATE TEMP TABLE IF NOT EXISTS mirror_dirty(id TEXT PRIMARY KEY) WITHOUT ROWID');
  for (const t of TABLES) {
    for (const [ev, ref] of [
      ['INSERT', 'NEW'],
      ['UPDATE', 'NEW'],
      ['DELETE', 'OLD'],
    ] as const) {
      db.exec(`CREATE TEMP TRIGGER IF NOT EXISTS mirror_${t.t}_${ev.toLowerCase()} AFTER ${ev} ON main.${t.t}
        BEGIN INSERT INTO temp.mirror_dirty(id) SELECT ${idExpr(t, ref)}
          WHERE NOT EXISTS (SELECT 1 FROM temp.mirror_dirty WHERE id = ${idExpr(t, ref)}); END`);
    }
  }
}

/** Reads what changed since the last `clearDirty`: each changed row's document, or null when deleted. */
export class MirrorReader {
  private readonly rows = new Map<string, Database.Statement>();
  private readonly dirty: Database.Statement;
  private readonly clear: Database.Statement;

  constructor(private readonly db: Database.Database) {
    for (const t of TABLES) {
      const sql =
        t.select ??
        `SELECT ${t.cols.map(([c]) => c).join(', ')} FROM ${t.t} WHERE ${t.pk.map((c) => `${c} = ?`).join(' AND ')}`;
      this.rows.set(t.t, db.prepare(sql));
    }
    this.dirty = db.prepare('SELECT id FROM temp.mirror_dirty').pluck();
    this.clear = db.prepare('DELETE FROM temp.mirror_dirty');
  }

  /** Ids recorded so far. */
  pending(): number {
    return Number(this.db.prepare('SELECT count(*) FROM temp.mirror_dirty').pluck().get());
  }

  images(): LinkImage[] {
    const out: LinkImage[] = [];
    for (const id of this.dirty.all()) out.push([String(id), this.docOf(String(id))]);
    return out;
  }

  clearDirty(): void {
    this.clear.run();
  }

  private docOf(id: string): LinkDoc | null {
    const colon = id.indexOf(':');
    const t = BY_NAME.get(id.slice(0, colon));
    const stmt = this.rows.get(id.slice(0, colon));
    if (!t || !stmt) throw new Error(`correlation mirror: unknown table in ${id}`);
    const parts = id.slice(colon + 1).split(SEP);
    const args = t.pk.map((c, i) => {
      const p = parts[i] ?? '';
      if (t.t === 'ip6') return Buffer.from(p, 'hex');
      return TEXT_KEYS.has(`${t.t}.${c}`) ? p : Number(p);
    });
    const row: unknown = stmt.get(...args);
    if (typeof row !== 'object' || row === null) return null;
    const get = (col: string): unknown => (col in row ? Reflect.get(row, col) : undefined);
    const doc: LinkDoc = { t: t.t };
    for (const [col, field] of t.cols) doc[field] = cell(get(col));
    if (t.select) {
      doc.type = cell(get('type'));
      doc.key = cell(get('key'));
    }
    return doc;
  }
}

function cell(v: unknown): string | number | null {
  if (v === null || v === undefined) return null;
  if (Buffer.isBuffer(v)) return v.toString('hex');
  if (typeof v === 'bigint') return Number(v);
  return typeof v === 'number' || typeof v === 'string' ? v : String(v);
}

/** Inserts documents read from the links index as rows (a writer taking over loads the index this way). */
export class MirrorLoader {
  private readonly inserts = new Map<string, { t: Table; stmt: Database.Statement }>();

  constructor(db: Database.Database) {
    for (const t of TABLES) {
      const cols = t.cols.map(([c]) => c);
      const stmt = db.prepare(
        `INSERT OR REPLACE INTO ${t.t}(${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`,
      );
      this.inserts.set(t.t, { t, stmt });
    }
  }

  load(doc: LinkDoc): void {
    const x = this.inserts.get(doc.t);
    if (!x) return;
    x.stmt.run(
      ...x.t.cols.map(([col, field]) => {
        const v = doc[field] ?? null;
        return x.t.t === 'ip6' && col === 'addr' ? Buffer.from(String(v), 'hex') : v;
      }),
    );
  }
}
