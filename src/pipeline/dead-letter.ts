import { appendFileSync, mkdirSync, renameSync, statSync } from 'node:fs';
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

/**
 * The dead-letter file of one sink: JSON lines of the records the remote side rejected
 * permanently. Appends are synchronous so that a record is on disk before the cursor that skips
 * it is committed. When the file passes `maxBytes` it is renamed to `<file>.1` (replacing an older
 * one), so the two files together stay under twice the cap.
 */
export class DeadLetterFile {
  private size = -1;

  constructor(
    readonly path: string,
    private readonly maxBytes = 64 * 1024 * 1024,
  ) {}

  write(sink: string, records: readonly { record: SinkRecord; reason: string }[], now: number): void {
    if (records.length === 0) return;
    const time = new Date(now).toISOString();
    let text = '';
    for (const { record: r, reason } of records) {
      const line: DeadLetter = {
        time, sink, op: r.op, seq: r.seq, key: r.key, type: r.observable.type, value: neutraliseFormula(r.observable.value), stix_id: r.object.id,
        reason: neutraliseFormula(reason.slice(0, 2000)),
      };
      text += `${JSON.stringify(line)}\n`;
    }
    if (this.size < 0) {
      mkdirSync(dirname(this.path), { recursive: true });
      try {
        this.size = statSync(this.path).size;
      } catch {
        this.size = 0;
      }
    }
    if (this.size > 0 && this.size + text.length > this.maxBytes) {
      renameSync(this.path, `${this.path}.1`);
      this.size = 0;
    }
    appendFileSync(this.path, text);
    this.size += Buffer.byteLength(text);
  }
}
