import { createReadStream, createWriteStream, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { at } from '../core/indexed.js';

/**
 * An external sort for reconcile: items are buffered up to `chunk`, each full buffer is sorted by
 * key and written to a run file (one JSON line per item) in a private temporary directory, and
 * `sorted()` merges the runs. Memory holds at most `chunk` items plus one line per run, whatever
 * the number of items: 1M remote entries in runs of 50,000 are 20 files and 20 lines in memory
 * while merging (bench/reconcile.ts measures the peak RSS). Keys compare by UTF-16 code units.
 */
export class SortedSpill<T> {
  private buffer: T[] = [];
  private runs: string[] = [];
  private dir: string | undefined;
  /** Items added; the largest buffer held (the bounded-structure check in tests). */
  readonly stats = { items: 0, runs: 0, maxBuffered: 0 };

  constructor(
    private readonly tmpRoot: string,
    private readonly keyOf: (item: T) => string,
    private readonly chunk = 50_000,
  ) {}

  async add(item: T): Promise<void> {
    this.buffer.push(item);
    this.stats.items++;
    if (this.buffer.length > this.stats.maxBuffered) this.stats.maxBuffered = this.buffer.length;
    if (this.buffer.length >= this.chunk) await this.spill();
  }

  private sortBuffer(): void {
    this.buffer.sort((a, b) => cmp(this.keyOf(a), this.keyOf(b)));
  }

  private async spill(): Promise<void> {
    this.sortBuffer();
    if (this.dir === undefined) {
      mkdirSync(this.tmpRoot, { recursive: true });
      this.dir = mkdtempSync(join(this.tmpRoot, 'stixgate-reconcile-'));
    }
    const file = join(this.dir, `run-${this.runs.length}.jsonl`);
    const out = createWriteStream(file);
    for (const item of this.buffer) {
      if (!out.write(`${JSON.stringify(item)}\n`)) await once(out, 'drain');
    }
    out.end();
    await once(out, 'finish');
    this.runs.push(file);
    this.stats.runs++;
    this.buffer = [];
  }

  /** The items in key order (stable within a run); can be iterated once. */
  async *sorted(): AsyncGenerator<T> {
    if (this.runs.length === 0) {
      this.sortBuffer();
      const items = this.buffer;
      this.buffer = [];
      yield* items;
      return;
    }
    if (this.buffer.length) await this.spill();
    const readers = this.runs.map((f) =>
      createInterface({ input: createReadStream(f), crlfDelay: Infinity })[Symbol.asyncIterator](),
    );
    try {
      const heads: (T | undefined)[] = [];
      for (const r of readers) heads.push(await next(r));
      for (;;) {
        let best = -1;
        let item: T | undefined;
        for (let i = 0; i < heads.length; i++) {
          const h = heads[i];
          if (h === undefined) continue;
          if (item === undefined || cmp(this.keyOf(h), this.keyOf(item)) < 0) {
            best = i;
            item = h;
          }
        }
        if (item === undefined) return;
        heads[best] = await next(at(readers, best));
        yield item;
      }
    } finally {
      for (const r of readers) await r.return?.();
    }

    async function next(r: AsyncIterator<string>): Promise<T | undefined> {
      const x = await r.next();
      return x.done ? undefined : (JSON.parse(x.value) as T);
    }
  }

  /** Deletes the run files. */
  close(): void {
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
    this.dir = undefined;
    this.buffer = [];
  }
}

export const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
