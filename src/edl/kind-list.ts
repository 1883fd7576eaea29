import { createHash } from 'node:crypto';
import { at } from '../core/indexed.js';

/** One served list body with its validators. */
export interface Snapshot {
  body: Buffer;
  /**
   * Strong entity tag: a hash of the body's segment hashes (of the body itself over a cap), so a
   * different body always has a different tag; an equal body cut into other segments (after a
   * restart) may get another tag, which costs a device one download.
   */
  etag: string;
  /** When the body last changed (epoch ms, whole seconds, as HTTP dates carry them). */
  lastModified: number;
  /** `lastModified` as an HTTP date. */
  lastModifiedHttp: string;
  entries: number;
  /** Entries left out by the caps at this regeneration. */
  truncated: number;
}

/** One line's owners: the indicator ids that put it in the list, with their scores (the line takes the highest). */
interface Entry {
  id: string;
  score: number;
  more?: Map<string, number>;
  /** The segment of the body the line is written in. */
  seg: Segment;
}

/** A run of lines in arrival order and their rendered bytes (undefined once a line moved in or out). */
interface Segment {
  lines: Set<string>;
  buf?: Buffer;
  /** SHA-1 of `buf`. */
  digest?: Buffer;
}

const SCORE_BUCKETS = 101;
/** Lines per segment: a change re-renders one segment, not the list. */
export const SEGMENT_LINES = 4096;

/**
 * The lines of one kind of one list, kept current one indicator at a time (`acquire`/`release`),
 * and turned into a body only when they changed (`regenerate`). Under the caps the body lists the
 * lines in the order they arrived (a score change alone changes no byte); over a cap the
 * highest-scored lines are kept (ties in arrival order), found with one counting pass over the
 * 0-100 score range, never a sort.
 */
export class KindList {
  private readonly entries = new Map<string, Entry>();
  private segments: Segment[] = [];
  /** A line was added or removed since the last regeneration. */
  private dirty = true;
  /** A score changed since the last regeneration (matters only over a cap). */
  private scoresChanged = false;
  snapshot: Snapshot;
  /** Bodies built (an operation count for tests and the regeneration metric). */
  regenerations = 0;
  /** Lines rendered into segment bytes (an operation count: a change renders one segment, not the list). */
  linesRendered = 0;

  constructor(
    readonly maxEntries: number,
    readonly maxBytes: number,
    now: number,
  ) {
    this.snapshot = snapshotOf(Buffer.alloc(0), sha1(Buffer.alloc(0)), 0, 0, now);
  }

  get size(): number {
    return this.entries.size;
  }

  /** `id` lists `line` with `score`. */
  acquire(line: string, id: string, score: number): void {
    const e = this.entries.get(line);
    if (!e) {
      let seg = this.segments[this.segments.length - 1];
      if (!seg || seg.lines.size >= SEGMENT_LINES) {
        seg = { lines: new Set() };
        this.segments.push(seg);
      }
      seg.lines.add(line);
      seg.buf = undefined;
      this.entries.set(line, { id, score, seg });
      this.dirty = true;
      return;
    }
    if (e.id === id) {
      if (e.score !== score) this.setScore(e, score);
      return;
    }
    e.more ??= new Map();
    e.more.set(id, score);
    if (score > e.score) this.setScore(e, score);
  }

  /** `id` no longer lists `line`. */
  release(line: string, id: string): void {
    const e = this.entries.get(line);
    if (!e) return;
    if (e.id !== id) {
      if (e.more?.delete(id)) this.rescore(e);
      return;
    }
    if (!e.more || e.more.size === 0) {
      this.entries.delete(line);
      e.seg.lines.delete(line);
      e.seg.buf = undefined;
      this.dirty = true;
      return;
    }
    const [next, nextScore] = e.more.entries().next().value as [string, number];
    e.more.delete(next);
    e.id = next;
    e.score = nextScore;
    this.rescore(e);
  }

  /** True when the next `regenerate` would build a new body. */
  get stale(): boolean {
    return this.dirty || (this.scoresChanged && this.overCap());
  }

  /** Builds the body when the lines changed; returns whether the served bytes changed. */
  regenerate(now: number): boolean {
    if (!this.stale) return false;
    this.dirty = false;
    this.scoresChanged = false;
    this.regenerations++;
    const { body, digest, entries } = this.entries.size > this.maxEntries ? this.renderCapped() : this.renderSegments();
    const before = this.snapshot;
    const next = snapshotOf(body, digest, entries, this.entries.size - entries, now);
    if (next.etag === before.etag) {
      this.snapshot = { ...next, lastModified: before.lastModified, lastModifiedHttp: before.lastModifiedHttp };
      return false;
    }
    this.snapshot = next;
    return true;
  }

  private overCap(): boolean {
    return this.entries.size > this.maxEntries || (this.maxBytes > 0 && this.snapshot.truncated > 0);
  }

  private setScore(e: Entry, score: number): void {
    e.score = score;
    this.scoresChanged = true;
  }

  private rescore(e: Entry): void {
    let best = e.score;
    for (const s of e.more?.values() ?? []) if (s > best) best = s;
    if (best !== e.score) this.setScore(e, best);
  }

  /**
   * Under the entry cap: the segments in order, each rendered again only when a line moved in or
   * out of it; sparse segments are compacted first. A byte cap cuts after the last whole line.
   */
  private renderSegments(): { body: Buffer; digest: Buffer; entries: number } {
    const needed = Math.ceil(this.entries.size / SEGMENT_LINES);
    if (this.segments.length > 2 * needed + 4) this.compact();
    const parts: Buffer[] = [];
    const digests: Buffer[] = [];
    for (const seg of this.segments) {
      if (seg.lines.size === 0) continue;
      if (!seg.buf) {
        seg.buf = Buffer.from(`${[...seg.lines].join('\n')}\n`, 'utf8');
        seg.digest = sha1(seg.buf);
        this.linesRendered += seg.lines.size;
      }
      parts.push(seg.buf);
      digests.push(seg.digest ?? sha1(seg.buf));
    }
    let body = Buffer.concat(parts);
    if (this.maxBytes > 0 && body.length > this.maxBytes) {
      body = body.subarray(0, body.lastIndexOf(0x0a, this.maxBytes - 1) + 1);
      let entries = 0;
      for (let i = body.indexOf(0x0a); i >= 0; i = body.indexOf(0x0a, i + 1)) entries++;
      return { body, digest: sha1(body), entries };
    }
    // the tag hashes the segments' hashes: a change hashes one segment, not the whole body
    return { body, digest: sha1(Buffer.concat(digests)), entries: this.entries.size };
  }

  /** Segments rebuilt full, in the lines' arrival order. */
  private compact(): void {
    this.segments = [];
    let seg: Segment | undefined;
    for (const [line, e] of this.entries) {
      if (!seg || seg.lines.size >= SEGMENT_LINES) {
        seg = { lines: new Set() };
        this.segments.push(seg);
      }
      seg.lines.add(line);
      e.seg = seg;
    }
  }

  /** Over the entry cap: the highest-scored lines, in score order, cut at the byte cap. */
  private renderCapped(): { body: Buffer; digest: Buffer; entries: number } {
    const cap = this.maxEntries;
    const maxBytes = this.maxBytes;
    // counting pass: how many lines at each score, then the lowest score that still fits
    const counts = new Int32Array(SCORE_BUCKETS);
    // bucket() is within 0..SCORE_BUCKETS - 1, so the counts reads below are in range
    for (const e of this.entries.values()) counts[bucket(e.score)]!++;
    let floor = SCORE_BUCKETS - 1;
    let kept = 0;
    while (floor > 0 && kept + counts[floor]! < cap) kept += counts[floor--]!;
    let atFloor = cap - kept;
    let lines: string[] = [];
    for (const [line, e] of this.entries) {
      const b = bucket(e.score);
      if (b > floor) lines.push(line);
      else if (b === floor && atFloor > 0) {
        lines.push(line);
        atFloor--;
      }
    }
    if (lines.length > cap) lines.length = cap;
    // the kept lines in score order, so that a device that stops early keeps the strongest
    lines = byScore(lines, this.entries);
    if (maxBytes > 0) {
      let bytes = 0;
      let n = 0;
      for (const line of lines) {
        const b = Buffer.byteLength(line, 'utf8') + 1;
        if (bytes + b > maxBytes) break;
        bytes += b;
        n++;
      }
      if (n < lines.length) lines = lines.slice(0, n);
    }
    const body = Buffer.from(lines.length ? `${lines.join('\n')}\n` : '', 'utf8');
    return { body, digest: sha1(body), entries: lines.length };
  }
}

function bucket(score: number): number {
  return score <= 0 ? 0 : score >= 100 ? 100 : Math.floor(score);
}

/** Lines ordered by descending score bucket, arrival order within a bucket (a stable counting sort). */
function byScore(lines: string[], entries: Map<string, Entry>): string[] {
  const buckets: string[][] = Array.from({ length: SCORE_BUCKETS }, () => []);
  for (const l of lines) at(buckets, bucket(entries.get(l)!.score)).push(l);
  const out: string[] = [];
  for (const b of buckets.toReversed()) for (const l of b) out.push(l);
  return out;
}

function sha1(b: Buffer): Buffer {
  return createHash('sha1').update(b).digest();
}

function snapshotOf(body: Buffer, digest: Buffer, entries: number, truncated: number, now: number): Snapshot {
  const secs = Math.floor(now / 1000) * 1000;
  return {
    body,
    etag: `"${digest.toString('base64url')}"`,
    lastModified: secs,
    lastModifiedHttp: new Date(secs).toUTCString(),
    entries,
    truncated,
  };
}
