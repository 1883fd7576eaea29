import { closeSync, fstatSync, mkdirSync, openSync, readSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { at, group } from '../../core/indexed.js';

/**
 * TAXII `date_added`, from the store's change log (docs/adr/0017-taxii-date-added.md).
 *
 * The change log orders every object by its last change (seq). The clock maps seqs to timestamps
 * through checkpoints (seq_i, ms_i): the seqs in (seq_{i-1}, seq_i] were first served under
 * checkpoint i, and seq s of that range is dated ms_i − (seq_i − s) µs. Checkpoints strictly
 * increase in both seq and time, and each range fits in the microseconds since the one before,
 * so every seq has its own timestamp and timestamps order exactly as seqs do: `added_after` and
 * `next` page without gaps or repeats while writes happen. A checkpoint is taken when a request
 * finds the store's head beyond the last one (at most once per `minGapMs`, and at once after a
 * write through TAXII); the head beyond the last checkpoint is not served until then.
 *
 * Checkpoints are appended to a file in the data directory (16 bytes each), so dates survive a
 * restart. Losing the last records (a crash before the page cache was written) re-dates their
 * seqs later, never earlier: clients read those objects again, and miss none.
 */

const RECORD = 16;

export class AddedClock {
  private seqs: number[] = [];
  private ms: number[] = [];
  private fd: number | undefined;

  /** `file`: where checkpoints persist (undefined: memory only, for tests). */
  constructor(
    file: string | undefined,
    private readonly minGapMs = 1000,
  ) {
    if (file === undefined) return;
    mkdirSync(dirname(file), { recursive: true });
    this.fd = openSync(file, 'a+', 0o600);
    const size = fstatSync(this.fd).size;
    const whole = size - (size % RECORD);
    const buf = Buffer.alloc(whole);
    if (whole > 0) readSync(this.fd, buf, 0, whole, 0);
    for (let off = 0; off < whole; off += RECORD) {
      const seq = buf.readDoubleLE(off);
      const ms = buf.readDoubleLE(off + 8);
      // a record that does not extend the clock (a torn or foreign file) ends the readable part
      if (!(seq > this.lastSeq && ms > this.lastMs)) break;
      this.seqs.push(seq);
      this.ms.push(ms);
    }
  }

  /** The last seq with a date: the horizon of what is served. */
  get lastSeq(): number {
    return this.seqs.at(-1) ?? 0;
  }

  private get lastMs(): number {
    return this.ms.at(-1) ?? 0;
  }

  /** Dates the seqs up to `head` when the head moved (and `force` or `minGapMs` passed). Returns the horizon. */
  advance(head: number, nowMs: number, force = false): number {
    const last = this.lastSeq;
    if (head <= last) return last;
    if (!force && this.seqs.length > 0 && nowMs - this.lastMs < this.minGapMs) return last;
    // the range (last, head] needs head − last distinct microseconds after the previous checkpoint
    const ms = Math.max(Math.floor(nowMs), this.lastMs + Math.ceil((head - last) / 1000));
    if (this.fd !== undefined) {
      const rec = Buffer.alloc(RECORD);
      rec.writeDoubleLE(head, 0);
      rec.writeDoubleLE(ms, 8);
      writeSync(this.fd, rec, 0, RECORD);
    }
    this.seqs.push(head);
    this.ms.push(ms);
    return head;
  }

  /** `date_added` of a seq at or below the horizon, in epoch microseconds. */
  dateUs(seq: number): number {
    const i = lowerBound(this.seqs, seq);
    if (i >= this.seqs.length) throw new RangeError(`seq ${seq} is beyond the dated horizon ${this.lastSeq}`);
    return at(this.ms, i) * 1000 - (at(this.seqs, i) - seq); // seqs and ms are parallel lists
  }

  /** `date_added` as an RFC 3339 timestamp with microseconds. */
  date(seq: number): string {
    return formatUs(this.dateUs(seq));
  }

  /** The largest seq whose date is at or before `us` (0 when none): `added_after` as a seq. */
  seqAtOrBefore(us: number): number {
    // the first checkpoint dated at or after `us`
    let lo = 0;
    let hi = this.ms.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (at(this.ms, mid) * 1000 < us) lo = mid + 1;
      else hi = mid;
    }
    if (lo >= this.ms.length) return this.lastSeq;
    const from = lo > 0 ? at(this.seqs, lo - 1) : 0;
    const seqLo = at(this.seqs, lo);
    return Math.max(from, Math.min(seqLo, us - at(this.ms, lo) * 1000 + seqLo));
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

function lowerBound(a: number[], v: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (at(a, mid) < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Epoch microseconds as `YYYY-MM-DDTHH:MM:SS.ffffffZ`. */
export function formatUs(us: number): string {
  const ms = Math.floor(us / 1000);
  const iso = new Date(ms).toISOString();
  return `${iso.slice(0, 23)}${String(us - ms * 1000).padStart(3, '0')}Z`;
}

const TS_RE = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/i;

/** An RFC 3339 timestamp as epoch microseconds (sub-microsecond digits dropped), or undefined. */
export function parseUs(v: string): number | undefined {
  const m = TS_RE.exec(v);
  if (!m) return undefined;
  const secs = Date.parse(`${group(m, 1)}${group(m, 3).toUpperCase()}`);
  if (Number.isNaN(secs)) return undefined;
  return secs * 1000 + Number((m[2] ?? '').padEnd(6, '0').slice(0, 6));
}
