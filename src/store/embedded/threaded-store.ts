import { Worker } from 'node:worker_threads';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { StixgateError, type Rejection } from '../../core/errors.js';
import type { StixObject } from '../../core/stix.js';
import type {
  ActiveIndicatorPage,
  ChangePage,
  IndexPage,
  IngestItem,
  ModifyFn,
  ModifyOptions,
  ModifyResult,
  Query,
  QueryPage,
  Store,
  StoreStats,
  UpsertOptions,
  UpsertResult,
} from '../contract.js';
import { modifyIds } from '../merge.js';
import { planModify, type ModifyWrite } from './modify.js';
import type { ScoreHistoryEntry } from '../score-history.js';
import type { LedgerReading, LedgerUpdate } from '../ledger.js';
import type { PurgeOptions, PurgeResult } from '../retention.js';
import { changePage, type ChangeRow, type EmbeddedStoreOptions } from './store.js';
import { decodeError, encodeItems, type ThreadCall, type ThreadMethod, type ThreadReply } from './thread-protocol.js';

/** Items per message of an upsert: the copy into the writer takes one event-loop turn per slice. */
export const UPSERT_SLICE = 500;
/** A modify whose rows keep changing under it gives up after this many plans. */
const MODIFY_ROUNDS = 5;

/** Under tsx (tests, `npm run`) the thread loads the TypeScript source through the same loader. */
function workerArgs(): { url: URL; execArgv?: string[] } {
  const fromSource = import.meta.url.endsWith('.ts');
  const url = new URL(fromSource ? './store-thread.ts' : './store-thread.js', import.meta.url);
  if (!fromSource || process.execArgv.some((a) => a.includes('tsx'))) return { url };
  return { url, execArgv: [...process.execArgv, '--import', import.meta.resolve('tsx')] };
}

interface Waiting {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
}

/**
 * The embedded store run on a writer thread (docs/adr/0009-store-writer-thread.md). Every call is
 * a message to the thread, answered in the order sent; the caller's event loop only copies the
 * arguments and results. An upsert's items cross in slices of UPSERT_SLICE, one event-loop turn
 * each. `modify` runs its function here, on the stored JSON read from the thread, and the thread
 * applies each new state only while the row still holds what the function saw (a changed row is
 * read and planned again), as the OpenSearch backend does.
 */
export class ThreadedStore implements Store {
  readonly kind = 'embedded';
  private worker?: Worker;
  private next = 1;
  private readonly waiting = new Map<number, Waiting>();
  private failure?: Error;

  constructor(readonly opts: EmbeddedStoreOptions) {}

  async open(): Promise<void> {
    if (this.worker) return;
    const { onStatement: _no, ...data } = this.opts;
    const { url, execArgv } = workerArgs();
    const worker = new Worker(url, { workerData: data, ...(execArgv ? { execArgv } : {}) });
    this.worker = worker;
    this.failure = undefined;
    worker.on('message', (r: ThreadReply) => this.settle(r));
    worker.on('error', (e) => this.fail(e));
    worker.on('exit', (code) => this.fail(new Error(`store thread exited (code ${code})`)));
    try {
      await this.wait(0);
    } catch (e) {
      this.worker = undefined;
      await worker.terminate();
      throw e;
    }
  }

  async close(): Promise<void> {
    const worker = this.worker;
    if (!worker) return;
    try {
      await this.call('close', []);
    } finally {
      this.worker = undefined;
      worker.removeAllListeners('exit');
      await worker.terminate();
    }
  }

  private settle(r: ThreadReply): void {
    const w = this.waiting.get(r.id);
    if (!w) return;
    this.waiting.delete(r.id);
    if (this.waiting.size === 0) this.worker?.unref();
    if (r.ok) w.resolve(r.value);
    else w.reject(decodeError(r.error));
  }

  /** The thread is gone: every call waiting and every later one fails with the reason. */
  private fail(cause: Error): void {
    this.failure ??= new StixgateError('STIXGATE_ERR_STORE_UNAVAILABLE', `store thread failed: ${cause.message}`, {
      reason: 'unavailable',
      cause,
    });
    for (const w of this.waiting.values()) w.reject(this.failure);
    this.waiting.clear();
  }

  private wait(id: number): Promise<unknown> {
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.worker?.ref();
    });
  }

  private post(msg: ThreadCall): void {
    if (this.failure) throw this.failure;
    if (!this.worker)
      throw new StixgateError('STIXGATE_ERR_STORE_UNAVAILABLE', 'store is not open', { reason: 'closed' });
    this.worker.postMessage(msg);
  }

  private call<T>(method: ThreadMethod, args: unknown[]): Promise<T> {
    const id = this.next++;
    try {
      this.post({ id, method, args });
    } catch (e) {
      return Promise.reject(e);
    }
    // cast: the writer thread answers with what the named EmbeddedStore method returns
    return this.wait(id) as Promise<T>;
  }

  ping(): Promise<void> {
    return this.call('ping', []);
  }

  async upsert(items: IngestItem[], opts: UpsertOptions): Promise<UpsertResult> {
    const id = this.next++;
    const rejected: Rejection[] = [];
    let i = 0;
    // all but the last slice go ahead of the call, a turn apart
    for (; items.length - i > UPSERT_SLICE; i += UPSERT_SLICE) {
      this.post({ id, part: encodeItems(items.slice(i, i + UPSERT_SLICE), rejected) });
      await nextTurn();
    }
    this.post({ id, method: 'upsert', args: [encodeItems(i === 0 ? items : items.slice(i), rejected), opts] });
    const result = (await this.wait(id)) as UpsertResult;
    if (rejected.length > 0) result.rejected = [...rejected, ...result.rejected];
    return result;
  }

  get(id: string): Promise<StixObject | undefined> {
    return this.call('get', [id]);
  }

  getEntry(id: string): Promise<{ object: StixObject; seq: number } | undefined> {
    return this.call('getEntry', [id]);
  }

  getMany(ids: string[]): Promise<Map<string, StixObject>> {
    return this.call('getMany', [ids]);
  }

  query(q: Query): Promise<QueryPage> {
    return this.call('query', [q]);
  }

  async modify(ids: string[], fn: ModifyFn, _opts: ModifyOptions): Promise<ModifyResult> {
    const result: ModifyResult = { updated: 0, unchanged: 0, missing: 0, rejected: [] };
    let todo = modifyIds(ids);
    for (let round = 1; todo.length > 0; round++) {
      const stored = await this.call<Map<string, string>>('storedJsonOf', [todo]);
      const writes = planModify(todo, stored, fn, result, _opts.now);
      if (writes.length === 0) break;
      const r = await this.call<{ updated: number; conflicts: string[] }>('applyModified', [
        writes satisfies ModifyWrite[],
      ]);
      result.updated += r.updated;
      todo = r.conflicts;
      if (todo.length > 0 && round >= MODIFY_ROUNDS) {
        throw new StixgateError(
          'STIXGATE_ERR_STORE_UNAVAILABLE',
          `modify: ${todo.length} objects kept changing during ${round} attempts`,
          { reason: 'conflict' },
        );
      }
    }
    return result;
  }

  expire(now: number): Promise<number> {
    return this.call('expire', [now]);
  }

  purge(o: PurgeOptions): Promise<PurgeResult> {
    return this.call('purge', [o]);
  }

  /** The rows cross as JSON text and are parsed here (cheaper than copying object graphs). */
  async changes(after: number, limit: number): Promise<ChangePage> {
    return changePage(await this.call<ChangeRow[]>('changeRows', [after, limit]), after);
  }

  head(): Promise<number> {
    return this.call('head', []);
  }

  getCursor(name: string): Promise<string | undefined> {
    return this.call('getCursor', [name]);
  }

  setCursor(name: string, value: string): Promise<void> {
    return this.call('setCursor', [name, value]);
  }

  commitDeliveries(
    sink: string,
    updates: LedgerUpdate[],
    cursor: { name: string; value: string } | undefined,
    now: number,
  ): Promise<void> {
    return this.call('commitDeliveries', [sink, updates, cursor, now]);
  }

  deliveries(keys: string[], value: string): Promise<LedgerReading> {
    return this.call('deliveries', [keys, value]);
  }

  scoreHistory(id: string): Promise<ScoreHistoryEntry[]> {
    return this.call('scoreHistory', [id]);
  }

  acquireLease(name: string, holder: string, ttlMs: number, now: number): Promise<boolean> {
    return this.call('acquireLease', [name, holder, ttlMs, now]);
  }

  releaseLease(name: string, holder: string): Promise<void> {
    return this.call('releaseLease', [name, holder]);
  }

  stats(): Promise<StoreStats> {
    return this.call('stats', []);
  }

  indexEntries(after: number, limit: number): Promise<IndexPage> {
    return this.call('indexEntries', [after, limit]);
  }

  activeIndicators(after: number, limit: number): Promise<ActiveIndicatorPage> {
    return this.call('activeIndicators', [after, limit]);
  }

  /** Entries and memory of the writer's key tables (ADR 0006). */
  keyIndexStats(): Promise<{ ids: number; values: number; bytes: number; loadedFrom: 'snapshot' | 'scan' }> {
    return this.call('keyIndexStats', []);
  }

  /** Entries held by the writer's unchanged-upsert cache (at most its `hotCacheSize`). */
  hotCacheEntries(): Promise<number> {
    return this.call('hotCacheEntries', []);
  }
}
