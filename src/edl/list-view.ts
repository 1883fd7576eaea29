import type { Change } from '../store/contract.js';
import type { Observable, StixObject } from '../core/stix.js';
import { indicatorObservables } from '../core/object-observables.js';
import type { AccessPolicy } from '../access/policy.js';
import { decide, type ViewFilter } from '../delivery/select.js';
import type { PublishFilter } from '../filter/policy.js';
import type { EdlMetrics } from '../telemetry/edl-metrics.js';
import {
  DEFAULT_MAX_BYTES,
  DEFAULT_MAX_ENTRIES,
  domainLines,
  lineOf,
  type EdlFormat,
  type EdlKind,
} from './formats.js';
import { KindList } from './kind-list.js';
import { listKinds, type EdlListConfig } from './schema.js';

interface Held {
  kind: KindList;
  line: string;
}

export interface ListViewOptions {
  access: AccessPolicy;
  /** The publish filter in use (warninglists, publish allowlist), read at every change. */
  publish?: () => PublishFilter | undefined;
  metrics?: EdlMetrics;
}

/**
 * One configured list: the view at its TLP ceiling, through its filters (the access policy's
 * `viewOf` via the sinks' `decide`, so a list sees exactly what a sink with the same `max_tlp`
 * and filters would push), one KindList per kind it serves. `apply` moves one indicator's lines
 * in or out; nothing here reads the store.
 */
export class ListView {
  readonly kinds = new Map<EdlKind, KindList>();
  private readonly filter: ViewFilter;
  private readonly format: EdlFormat;
  /** The lines each indicator holds now (to release them when it changes or leaves). */
  private readonly held = new Map<string, Held[]>();

  constructor(
    readonly name: string,
    private readonly config: EdlListConfig,
    private readonly o: ListViewOptions,
    now: number,
  ) {
    this.format = config.format as EdlFormat;
    this.filter = {
      max_tlp: config.max_tlp,
      filters: {
        types: [],
        min_score: config.min_score,
        labels: config.labels,
        exclude_labels: config.exclude_labels,
        sources: config.sources,
      },
    };
    const maxEntries = config.max_entries ?? DEFAULT_MAX_ENTRIES[this.format];
    const maxBytes = config.max_bytes ?? DEFAULT_MAX_BYTES[this.format];
    for (const k of listKinds(config)) this.kinds.set(k, new KindList(maxEntries, maxBytes, now));
  }

  /**
   * Applies one object state (a change, or an active indicator at start-up, whose observables the
   * store already holds: `observables` spares parsing its pattern again).
   */
  apply(obj: StixObject, op: Change['op'], now: number, observables?: readonly Observable[] | null): void {
    if (obj.type !== 'indicator') return;
    const wanted = this.linesOf(obj, op, now, observables ?? undefined);
    const before = this.held.get(obj.id);
    if (before) {
      for (const h of before)
        if (!wanted.lines.some((w) => w.kind === h.kind && w.line === h.line)) h.kind.release(h.line, obj.id);
    }
    for (const w of wanted.lines) w.kind.acquire(w.line, obj.id, wanted.score);
    if (wanted.lines.length) this.held.set(obj.id, wanted.lines);
    else this.held.delete(obj.id);
  }

  private linesOf(
    obj: StixObject,
    op: Change['op'],
    now: number,
    observables?: readonly Observable[],
  ): { lines: Held[]; score: number } {
    const d = decide(obj, op, this.filter, now, this.o.access);
    if (d.action !== 'upsert') return { lines: [], score: 0 };
    const lines: Held[] = [];
    const m = this.o.metrics;
    const publish = this.config.warninglists ? this.o.publish?.() : undefined;
    // a view keeps the pattern, so the stored observables are the view's too
    for (const ob of observables ?? indicatorObservables(d.object)) {
      const r = lineOf(this.format, ob);
      if (!r) continue;
      const kind = this.kinds.get(r.kind);
      if (!kind) continue;
      if ('skip' in r) {
        m?.skipped.inc({ list: this.name, kind: r.kind, reason: r.skip });
        continue;
      }
      if (publish?.active && !publish.judge(ob, d.facts.sources).publish) {
        m?.withheld.inc({ list: this.name, kind: r.kind });
        continue;
      }
      const all = r.kind === 'domain' ? domainLines(this.format, r.line, this.config.subdomains) : [r.line];
      for (const line of all) if (!lines.some((l) => l.kind === kind && l.line === line)) lines.push({ kind, line });
    }
    return { lines, score: d.facts.score ?? 0 };
  }

  /** Rebuilds the bodies whose lines changed; returns how many were rebuilt. */
  regenerate(now: number): number {
    let n = 0;
    const m = this.o.metrics;
    for (const [kind, k] of this.kinds) {
      if (!k.stale) continue;
      k.regenerate(now);
      n++;
      const labels = { list: this.name, kind };
      m?.regenerations.inc(labels);
      m?.entries.set(labels, k.snapshot.entries);
      m?.truncated.set(labels, k.snapshot.truncated);
      if (k.snapshot.truncated > 0) m?.truncations.inc(labels);
    }
    return n;
  }
}
