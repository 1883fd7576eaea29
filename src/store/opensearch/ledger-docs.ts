import { LEDGER_REASONS, LEDGER_STATES, type LedgerRow, type LedgerUpdate } from '../ledger.js';

/**
 * The OpenSearch store's delivery-ledger documents (docs/deliveries.md, ADR 0025): one document
 * per (value, sink) holding the state the sink was brought to, with short field names and the
 * embedded store's integer codes. OpenSearch has no transaction across documents, so a push
 * writes the ledger documents of a cursor first and the cursor after them: each document written
 * ahead of its cursor carries that cursor (`c`) and the state it replaces (`p`). A reader takes
 * the document's state when the sink's committed cursor has reached `c`, else the one in `p` (or
 * no row): the answer is always the state the committed cursor covers, and a replay after a crash
 * starts again from `p`.
 */

/** One state of a value in a sink (the fields of a ledger row, coded). */
export interface LedgerStateDoc {
  /** state code (index in LEDGER_STATES) */
  st: number;
  /** reason code (index in LEDGER_REASONS) */
  r: number;
  /** since, epoch seconds */
  t: number;
  /** change-log sequence of the state */
  q: number;
  /** the sink's view's score, null: none */
  sc: number | null;
  /** the sink's min_score */
  th: number;
  /** contributions `source=tlp,…` */
  src: string;
  /** filter, list entry or vendor message */
  d?: string;
}

/** The stored document: `_id` = `<k>:<sink>`. */
export interface LedgerDoc extends LedgerStateDoc {
  /** the value key: the first 16 hex digits of the record key (the embedded store's `vkey`) */
  k: string;
  /** the sink id */
  s: string;
  /** the sink cursor this state waits for (0: committed when written) */
  c: number;
  /** the committed state this one replaces while `c` is ahead of the sink's cursor */
  p?: LedgerStateDoc;
}

const PRESENT = LEDGER_STATES.indexOf('present');
const STATE_CODE = new Map<string, number>(LEDGER_STATES.map((s, i) => [s, i]));
const REASON_CODE = new Map<string, number>(LEDGER_REASONS.map((s, i) => [s, i]));

/** The value key of a record key (16 hex digits: the same 64 bits as the embedded store's `vkey`). */
export function ledgerKeyOf(recordKey: string): string {
  return recordKey.slice(0, 16).toLowerCase();
}

export function ledgerDocId(recordKey: string, sink: string): string {
  return `${ledgerKeyOf(recordKey)}:${sink}`;
}

/** The state a sink's committed cursor covers: the document's own, or the one it replaced. */
export function committedState(doc: LedgerDoc, cursor: number): LedgerStateDoc | undefined {
  return doc.c <= cursor ? doc : doc.p;
}

/**
 * One update applied to a committed state, as the embedded store's upsert does it: `since` moves
 * only when state or reason changes; a full re-send (seq 0) keeps the sequence; a soft update (a
 * skipped value) leaves a present state alone.
 */
export function applyUpdate(cur: LedgerStateDoc | undefined, u: LedgerUpdate, sinceSecs: number): LedgerStateDoc {
  const st = STATE_CODE.get(u.state) ?? 0;
  const r = REASON_CODE.get(u.reason) ?? 0;
  if (cur && u.soft && cur.st === PRESENT) return cur;
  const next: LedgerStateDoc = {
    st,
    r,
    t: cur && cur.st === st && cur.r === r ? cur.t : sinceSecs,
    q: cur && !u.soft && u.seq === 0 ? cur.q : u.seq,
    sc: u.score,
    th: u.threshold,
    src: u.contributions,
  };
  if (u.detail !== undefined) next.d = u.detail;
  return next;
}

function sameState(a: LedgerStateDoc | undefined, b: LedgerStateDoc | undefined): boolean {
  if (!a || !b) return a === b;
  return (
    a.st === b.st &&
    a.r === b.r &&
    a.t === b.t &&
    a.q === b.q &&
    a.sc === b.sc &&
    a.th === b.th &&
    a.src === b.src &&
    a.d === b.d
  );
}

/** Only the state's fields (a document read back carries k, s, c and p too). */
function stateOnly(x: LedgerStateDoc): LedgerStateDoc {
  const out: LedgerStateDoc = { st: x.st, r: x.r, t: x.t, q: x.q, sc: x.sc, th: x.th, src: x.src };
  if (x.d !== undefined) out.d = x.d;
  return out;
}

/**
 * The document to write for one value in one sink: the stored document's committed state (given
 * the sink's committed cursor) with the updates applied in order, waiting for cursor `c` (0:
 * committed at once) and keeping the committed state it replaces while it waits. Undefined when
 * the stored document already says exactly that.
 */
export function nextDoc(
  stored: LedgerDoc | undefined,
  committed: number,
  updates: readonly LedgerUpdate[],
  key: string,
  sink: string,
  c: number,
  sinceSecs: number,
): LedgerDoc | undefined {
  const base = stored && committedState(stored, committed);
  const before = base && stateOnly(base);
  let cur = before;
  for (const u of updates) cur = applyUpdate(cur, u, sinceSecs);
  if (!cur) return undefined;
  if (sameState(cur, before) && stored && stored.c <= committed) return undefined;
  const waits = c > committed && !sameState(cur, before);
  const doc: LedgerDoc = { ...cur, k: ledgerKeyOf(key), s: sink, c: waits ? c : 0 };
  if (waits && before) doc.p = before;
  return doc;
}

/** A property of a parsed JSON value (undefined when it is not an object). */
export function field(v: unknown, key: string): unknown {
  return typeof v === 'object' && v !== null ? Reflect.get(v, key) : undefined;
}

const isNum = (v: unknown): v is number => typeof v === 'number';
const isStr = (v: unknown): v is string => typeof v === 'string';

function stateDocOf(v: unknown): LedgerStateDoc | undefined {
  const [st, r, t, q, sc, th, src, d] = ['st', 'r', 't', 'q', 'sc', 'th', 'src', 'd'].map((k) => field(v, k));
  if (!isNum(st) || !isNum(r) || !isNum(t) || !isNum(q) || !isNum(th) || !isStr(src)) return undefined;
  if (sc !== null && !isNum(sc)) return undefined;
  if (d !== undefined && !isStr(d)) return undefined;
  return { st, r, t, q, sc, th, src, ...(d !== undefined ? { d } : {}) };
}

/** A ledger document read back (`_source`), or undefined when it is not one (a `sink:<id>` document). */
export function ledgerDocOf(v: unknown): LedgerDoc | undefined {
  const state = stateDocOf(v);
  const [k, s, c, p] = ['k', 's', 'c', 'p'].map((x) => field(v, x));
  if (!state || !isStr(k) || !isStr(s) || !isNum(c)) return undefined;
  const prev = p === undefined ? undefined : stateDocOf(p);
  return { ...state, k, s, c, ...(prev ? { p: prev } : {}) };
}

/** A committed state as the store contract's row. */
export function rowOf(key: string, sink: string, x: LedgerStateDoc): LedgerRow {
  return {
    key,
    sink,
    state: LEDGER_STATES[x.st] ?? 'present',
    reason: LEDGER_REASONS[x.r] ?? 'pushed',
    since: x.t * 1000,
    seq: x.q,
    score: x.sc,
    threshold: x.th,
    contributions: x.src,
    ...(x.d !== undefined ? { detail: x.d } : {}),
  };
}
