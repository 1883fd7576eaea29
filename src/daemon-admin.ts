import type { Store } from './store/contract.js';
import type { Metrics } from './telemetry/metrics.js';
import type { Scheduler, JobStatus } from './pipeline/scheduler.js';
import type { SourceComponent } from './pipeline/components.js';
import type { SinkComponent } from './delivery/component.js';
import type { SinkRunSummary } from './delivery/runner.js';
import type { ReconcileResult } from './delivery/reconcile.js';
import { sinkCursorName } from './delivery/runner.js';
import { cursorName } from './pipeline/runner.js';
import type {
  AdminControl,
  IngestReport,
  IngestRequest,
  LastRun,
  PushAnswer,
  RunAnswer,
  SinkState,
  SourceState,
} from './server/admin-types.js';

/** What the admin control needs of the daemon (src/daemon.ts hands it closures over its state). */
export interface AdminHost {
  scheduler(): Scheduler | undefined;
  sources(): ReadonlyMap<string, SourceComponent>;
  sinks(): ReadonlyMap<string, SinkComponent>;
  store(): Store;
  metrics: Metrics;
  pauses: PauseBook;
  /** Counts of each job's last finished run in this process. */
  lastSummary: ReadonlyMap<string, Record<string, unknown>>;
  /** A run of the source in the scheduler's slot; `onRun` is called when this instance holds the lease and runs it. */
  runSource(id: string, onRun: () => void): Promise<void>;
  /** A push in the sink job's slot (`full`: re-send everything); the summary, or undefined when the lease is held elsewhere. */
  push(id: string, full: boolean): Promise<SinkRunSummary | undefined>;
  /** Reconcile: a plan outside the job's slot, an applied reconcile in it (undefined: the lease is held elsewhere). */
  reconcile(id: string, apply: boolean, limit: number): Promise<ReconcileResult | undefined>;
  /** A dry-run plan: reads the change log, sends and commits nothing, outside the job's slot. */
  dryRun(id: string, full: boolean): Promise<SinkRunSummary>;
  reload(): Promise<{ ok: boolean; message: string }>;
  ingestTypes(): string[];
  ingest(doc: Buffer, o: IngestRequest): Promise<IngestReport>;
  log(err: unknown, job: string): void;
}

export const PAUSED_CURSOR = 'admin:paused';

/**
 * The jobs paused through the admin API. Kept in the store (a named cursor holding the job ids),
 * so a pause survives the scheduler's ticks, a reload (which builds a new scheduler) and a
 * restart; mirrored in `stixgate_job_paused{job_name}`.
 */
export class PauseBook {
  private ids = new Set<string>();

  async load(store: Store): Promise<void> {
    const raw = await store.getCursor(PAUSED_CURSOR);
    let list: unknown = [];
    try {
      list = raw ? JSON.parse(raw) : [];
    } catch {
      list = [];
    }
    this.ids = new Set(Array.isArray(list) ? list.filter((x): x is string => typeof x === 'string') : []);
  }

  has(job: string): boolean {
    return this.ids.has(job);
  }

  async set(store: Store, job: string, paused: boolean): Promise<void> {
    const next = new Set(this.ids);
    if (paused) next.add(job);
    else next.delete(job);
    await store.setCursor(PAUSED_CURSOR, JSON.stringify([...next].sort()));
    this.ids = next;
  }

  /** Pauses the scheduler's jobs listed here and sets the gauge of every job. */
  apply(scheduler: Scheduler, metrics: Metrics): void {
    for (const job of scheduler.ids()) {
      const paused = this.ids.has(job);
      if (paused) scheduler.pause(job);
      else scheduler.resume(job);
      metrics.jobPaused.set({ job_name: job }, paused ? 1 : 0);
    }
  }
}

const iso = (t: number | undefined) => (t === undefined ? undefined : new Date(t).toISOString());

function jobView(st: JobStatus | undefined, summary: Record<string, unknown> | undefined) {
  const lastRun: LastRun | undefined =
    st?.lastStart === undefined
      ? undefined
      : {
          started: new Date(st.lastStart).toISOString(),
          ...(st.running
            ? { outcome: 'running' as const }
            : { ended: iso(st.lastEnd), outcome: st.lastError ? ('error' as const) : ('success' as const) }),
          ...(st.lastError && !st.running ? { error: st.lastError } : {}),
        };
  return {
    paused: st?.paused ?? false,
    running: st?.running ?? false,
    ...(lastRun ? { last_run: lastRun } : {}),
    ...(st?.nextRun !== undefined ? { next_run: iso(st.nextRun) } : {}),
    ...(st?.deferredUntil !== undefined ? { deferred_until: iso(st.deferredUntil) } : {}),
    consecutive_failures: st?.consecutiveFailures ?? 0,
    ...(summary ? { last_summary: summary } : {}),
  };
}

/** A summary as the API shows it (the dry run's sample records go out separately, with a view check). */
function sinkSummary(sum: SinkRunSummary): Record<string, unknown> {
  const { planned, ...rest } = sum;
  return {
    ...rest,
    ...(planned ? { planned: { upsert_batches: planned.upsert, remove_batches: planned.remove } } : {}),
  };
}

/** The admin API over a running daemon. */
export function createAdminControl(h: AdminHost): AdminControl {
  const status = (job: string) => {
    const s = h.scheduler();
    return s?.has(job) ? s.status(job) : undefined;
  };

  const sourceState = async (id: string, comp: SourceComponent): Promise<SourceState> => {
    const v = jobView(status(id), h.lastSummary.get(id));
    const cursor = await h.store().getCursor(cursorName(id));
    return {
      id,
      type: comp.config.type,
      state: v.paused ? 'paused' : v.running ? 'running' : 'idle',
      ...v,
      ...(cursor !== undefined ? { cursor } : {}),
    };
  };

  const sinkState = async (
    id: string,
    comp: SinkComponent,
    head: number,
    refused: ReadonlySet<string>,
  ): Promise<SinkState> => {
    const job = `sink:${id}`;
    const v = jobView(status(job), h.lastSummary.get(job));
    const cursor = Number((await h.store().getCursor(sinkCursorName(id))) ?? 0);
    const lag = Math.max(0, head - cursor);
    h.metrics.sinkLag.set({ sink: id }, lag); // the value /metrics serves is the one answered here
    const state = v.paused ? 'paused' : v.running ? 'running' : refused.has(id) ? 'auth_refused' : 'idle';
    return { id, type: comp.config.type, state, ...v, max_tlp: comp.config.max_tlp, cursor, head, lag };
  };

  /** Sinks whose remote side refused the credentials, as `stixgate_sink_paused` reports them. */
  const authRefused = async (): Promise<Set<string>> => {
    const g = await h.metrics.sinkPaused.get();
    return new Set(g.values.filter((x) => x.value === 1).map((x) => String(x.labels.sink)));
  };

  /** Starts or awaits a run; without `wait` the answer goes out at once and a failure is only logged. */
  const started = async <T>(run: Promise<T>, wait: boolean, job: string): Promise<{ value?: T; started: boolean }> => {
    if (wait) return { value: await run, started: false };
    run.catch((e) => h.log(e, job));
    return { started: true };
  };

  return {
    async sources() {
      return Promise.all([...h.sources()].map(([id, c]) => sourceState(id, c)));
    },
    async sinks() {
      const head = await h.store().head();
      const refused = await authRefused();
      return Promise.all([...h.sinks()].map(([id, c]) => sinkState(id, c, head, refused)));
    },
    async runSource(id, wait): Promise<RunAnswer | undefined> {
      if (!h.sources().has(id)) return undefined;
      let ran = false;
      const r = await started(
        h.runSource(id, () => (ran = true)),
        wait,
        id,
      );
      if (r.started) return { id, ran: true, started: true };
      return { id, ran, ...(ran && h.lastSummary.get(id) ? { summary: h.lastSummary.get(id) } : {}) };
    },
    async setPaused(kind, id, paused) {
      const comp = kind === 'source' ? h.sources().get(id) : h.sinks().get(id);
      if (!comp) return undefined;
      const job = kind === 'source' ? id : `sink:${id}`;
      await h.pauses.set(h.store(), job, paused);
      const s = h.scheduler();
      if (s) h.pauses.apply(s, h.metrics);
      if (kind === 'source') return sourceState(id, comp as SourceComponent);
      return sinkState(id, comp as SinkComponent, await h.store().head(), await authRefused());
    },
    async push(id, o): Promise<PushAnswer | undefined> {
      if (!h.sinks().has(id)) return undefined;
      if (o.dryRun) {
        const sum = await h.dryRun(id, o.full);
        const samples = (sum.planned?.samples ?? []).map((r) => ({
          op: r.op,
          ...(r.reason ? { reason: r.reason } : {}),
          type: r.observable.type,
          value: r.observable.value,
          tlp: r.tlp,
          fields: r.fields,
        }));
        return { id, ran: true, summary: sinkSummary(sum), samples };
      }
      const r = await started(h.push(id, o.full), o.wait, `sink:${id}`);
      if (r.started) return { id, ran: true, started: true };
      return r.value ? { id, ran: true, summary: sinkSummary(r.value) } : { id, ran: false };
    },
    async reconcile(id, o) {
      if (!h.sinks().has(id)) return undefined;
      const result = await h.reconcile(id, o.apply, o.limit);
      return result ? { id, ran: true, result } : { id, ran: false };
    },
    reload: () => h.reload(),
    ingestTypes: () => h.ingestTypes(),
    ingest: (doc, o) => h.ingest(doc, o),
  };
}
