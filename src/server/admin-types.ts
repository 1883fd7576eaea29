import type { TlpLevel } from '../core/stix.js';
import type { ReconcileResult } from '../delivery/reconcile.js';

/**
 * What the admin API asks of the running process (implemented by the daemon, src/daemon-admin.ts).
 * Unknown component ids answer undefined (a 404 at the route).
 */
export interface AdminControl {
  sources(): Promise<SourceState[]>;
  sinks(): Promise<SinkState[]>;
  /** Runs a source now in its job's single-run slot; `wait` resolves when it ends. */
  runSource(id: string, wait: boolean): Promise<RunAnswer | undefined>;
  /** Pauses or resumes the scheduled runs of a source or sink (kept across reloads and restarts). */
  setPaused(kind: 'source' | 'sink', id: string, paused: boolean): Promise<SourceState | SinkState | undefined>;
  /** A push now (`full`: re-send every active indicator), or a dry-run plan that sends and commits nothing. */
  push(id: string, o: { full: boolean; dryRun: boolean; wait: boolean }): Promise<PushAnswer | undefined>;
  /**
   * Compares what the sink's product holds with the sink's view of the store (`apply`: and repairs
   * the difference, in the sink job's slot); `limit` entries listed per kind.
   */
  reconcile(id: string, o: { apply: boolean; limit: number }): Promise<ReconcileAnswer | undefined>;
  /** Re-reads the configuration (the SIGHUP path): applied, or refused with the running one kept. */
  reload(): Promise<{ ok: boolean; message: string }>;
  /** The document formats an ingest may name. */
  ingestTypes(): string[];
  ingest(doc: Buffer, o: IngestRequest): Promise<IngestReport>;
}

export interface LastRun {
  started: string;
  ended?: string;
  outcome: 'running' | 'success' | 'error';
  error?: string;
}

interface JobState {
  id: string;
  type: string;
  /** `paused` (by the admin API), `running`, `idle`; sinks also `auth_refused` (401/403 from the remote side). */
  state: 'idle' | 'running' | 'paused' | 'auth_refused';
  paused: boolean;
  running: boolean;
  last_run?: LastRun;
  next_run?: string;
  deferred_until?: string;
  consecutive_failures: number;
}

export interface SourceState extends JobState {
  cursor?: string;
  /** Counts of the last finished run in this process. */
  last_summary?: Record<string, unknown>;
}

export interface SinkState extends JobState {
  max_tlp: TlpLevel;
  cursor: number;
  head: number;
  /** Change-log entries not delivered yet (head - cursor), the value `stixgate_sink_lag_changes` reports. */
  lag: number;
  last_summary?: Record<string, unknown>;
}

export interface RunAnswer {
  id: string;
  /** False when the job's lease is held by another instance (shared store): nothing ran here. */
  ran: boolean;
  /** Set when `wait` was false: the run goes on after the answer. */
  started?: boolean;
  summary?: Record<string, unknown>;
}

export interface PlannedRecord {
  op: 'upsert' | 'remove';
  reason?: string;
  type: string;
  value: string;
  tlp: TlpLevel;
  fields: Record<string, unknown>;
}

export interface PushAnswer extends RunAnswer {
  /** The dry run's sample records (at most 10), each at its sink view's TLP. */
  samples?: PlannedRecord[];
}

export interface IngestRequest {
  type: string;
  sourceId: string;
  options: Record<string, unknown>;
}

export interface ObjectStatus {
  /** The object's STIX id (absent for a record that failed before it became an object). */
  id?: string;
  status: 'accepted' | 'filtered' | 'rejected';
  reason?: string;
  message?: string;
  location?: Record<string, unknown>;
}

export interface IngestReport {
  source_id: string;
  type: string;
  summary: Record<string, unknown>;
  objects: ObjectStatus[];
  /** True when more objects than the answer lists were processed (the counts cover them all). */
  objects_truncated: boolean;
}

export interface ReconcileAnswer {
  id: string;
  /** False when the sink job's lease is held by another instance (shared store): nothing was compared here. */
  ran: boolean;
  result?: ReconcileResult;
}
