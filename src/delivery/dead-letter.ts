import { appendFileSync, existsSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import type { SinkRecord } from './types.js';
import { neutraliseFormula } from '../core/formula-safe.js';

/** One line of a dead-letter file. */
export interface DeadLetter {
  time: string;
  sink: string;
  op: 'upsert' | 'remove';
  seq: number;
  key: string;
  type: string;
  value: string;
  stix_id: string;
  reason: string;
}

/** What a write's rotation did: the bytes of the oldest kept file it deleted (0 when none was full yet). */
export interface DeadLetterRotation {
  droppedBytes: number;
}

function sizeOf(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

/**
 * The dead-letter file of one sink: JSON lines of the records the remote side rejected
 * permanently. Appends are synchronous so that a record is on disk before the cursor that skips
 * it is committed. When the file would pass `maxBytes` it is rotated: `<file>` becomes
 * `<file>.1`, `<file>.1` becomes `<file>.2`, … up to `keep` files; the oldest beyond them is
 * deleted, and the write reports its size so the caller counts and logs what was dropped.
 * Disk use stays under (keep + 1) × maxBytes.
 */
export class DeadLetterFile {
  private size = -1;
  private readonly maxBytes: number;
  private readonly keep: number;
  /** Rotations and bytes dropped by this writer since it was made. */
  rotations = 0;
  droppedBytes = 0;

  constructor(
    readonly path: string,
    opts: { maxBytes?: number; keep?: number } = {},
  ) {
    this.maxBytes = opts.maxBytes ?? 64 * 1024 * 1024;
    this.keep = Math.max(1, opts.keep ?? 3);
  }

  write(
    sink: string,
    records: readonly { record: SinkRecord; reason: string }[],
    now: number,
  ): DeadLetterRotation | undefined {
    if (records.length === 0) return undefined;
    const time = new Date(now).toISOString();
    let text = '';
    for (const { record: r, reason } of records) {
      const line: DeadLetter = {
        time,
        sink,
        op: r.op,
        seq: r.seq,
        key: r.key,
        type: r.observable.type,
        value: neutraliseFormula(r.observable.value),
        stix_id: r.object.id,
        reason: neutraliseFormula(reason.slice(0, 2000)),
      };
      text += `${JSON.stringify(line)}\n`;
    }
    if (this.size < 0) {
      mkdirSync(dirname(this.path), { recursive: true });
      this.size = sizeOf(this.path);
    }
    const bytes = Buffer.byteLength(text);
    let rotation: DeadLetterRotation | undefined;
    if (this.size > 0 && this.size + bytes > this.maxBytes) rotation = this.rotate();
    appendFileSync(this.path, text);
    this.size += bytes;
    return rotation;
  }

  private rotate(): DeadLetterRotation {
    const oldest = `${this.path}.${this.keep}`;
    const droppedBytes = sizeOf(oldest);
    rmSync(oldest, { force: true });
    for (let k = this.keep - 1; k >= 1; k--) {
      if (existsSync(`${this.path}.${k}`)) renameSync(`${this.path}.${k}`, `${this.path}.${k + 1}`);
    }
    renameSync(this.path, `${this.path}.1`);
    this.size = 0;
    this.rotations++;
    this.droppedBytes += droppedBytes;
    return { droppedBytes };
  }
}
