import { errorMessage } from '../../src/core/errors.js';
import type { RefSet, RefStore } from './sim-store.js';
import type { DomainCheck } from './sim-access.js';

/** What the route handlers of the QRadar simulator get for one request. */
export interface SimContext {
  store: RefStore;
  /** The API version the request is served with (after `Version` negotiation). */
  version: string;
  now(): number;
  /** Waits as long as adding `n` elements to `set` takes (serialised per set). */
  latency(set: RefSet, n: number): Promise<void>;
  tasks: Tasks;
  /** From a `partialAccept` fault: apply this many values of a bulk request, then fail. */
  partialAccept?: number;
  maxBulkElements?: number;
  /** Extra time an asynchronous task stays QUEUED/PROCESSING. */
  taskDelayMs: number;
  user: string;
  /** The domains and tenant the credential may use. */
  domains: DomainCheck;
}

export type TaskStatus = 'QUEUED' | 'PROCESSING' | 'COMPLETED' | 'EXCEPTION' | 'CANCELLED';

export interface BulkResults {
  status: 'COMPLETE_UPDATE_PERFORMED' | 'PARTIAL_UPDATE_PERFORMED' | 'UPDATE_ABORTED';
  responses: { http_status: number; message: string; unique_code: number }[];
}

export interface Task {
  id: number;
  name: string;
  status: TaskStatus;
  created: number;
  created_by: string;
  modified: number;
  started: number | null;
  completed: number | null;
  message?: string;
  error_code?: number;
  error_message?: string;
  /** Bulk update tasks only. */
  results?: BulkResults;
}

/** Asynchronous tasks (set deletion, bulk updates): QUEUED → PROCESSING → COMPLETED. */
export class Tasks {
  readonly all = new Map<number, Task>();
  private next = 1;
  private readonly pending = new Set<Promise<void>>();

  /** A task whose work already happened: the returned snapshot says QUEUED, polls say COMPLETED. */
  create(name: string, now: number, message?: string, user = 'admin'): Task {
    const t: Task = {
      id: this.next++,
      name,
      status: 'QUEUED',
      created: now,
      created_by: user,
      modified: now,
      started: null,
      completed: null,
      message,
    };
    this.all.set(t.id, { ...t, status: 'COMPLETED', started: now, completed: now });
    return t;
  }

  /** A task that runs `work` after `delayMs` (in the background) and then completes. */
  run(name: string, now: () => number, delayMs: number, work: (t: Task) => Promise<void>, user = 'admin'): Task {
    const t0 = now();
    const t: Task = {
      id: this.next++,
      name,
      status: 'QUEUED',
      created: t0,
      created_by: user,
      modified: t0,
      started: null,
      completed: null,
    };
    this.all.set(t.id, t);
    const go = async () => {
      Object.assign(t, { status: 'PROCESSING', started: now(), modified: now() });
      try {
        await work(t);
        Object.assign(t, { status: 'COMPLETED', completed: now(), modified: now() });
      } catch (e) {
        Object.assign(t, {
          status: 'EXCEPTION',
          completed: now(),
          modified: now(),
          error_code: 500,
          error_message: errorMessage(e),
        });
      }
    };
    const done = new Promise<void>((resolve) => setTimeout(() => void go().finally(resolve), delayMs).unref());
    this.pending.add(done);
    void done.finally(() => this.pending.delete(done));
    return t;
  }

  /** Resolves once every task started so far has completed (tests wait on this instead of polling on a timer). */
  async idle(): Promise<void> {
    while (this.pending.size) await Promise.all([...this.pending]);
  }

  /** The task without its (separately served) results. */
  view(t: Task): Omit<Task, 'results'> {
    const { results: _r, ...rest } = t;
    return rest;
  }
}
