import type { TlpLevel } from '../core/stix.js';
import type { Store } from '../store/contract.js';
import { LinksWalkSource } from './opensearch-source.js';
import { SharedCorrelationWriter, type SharedWriterOptions } from './opensearch-writer.js';
import { Walker, type EdgeRow } from './query.js';
import { relatedOf, summaryOf, type RelatedOptions, type RelatedResult, type RelatedSummary } from './related.js';

/** Most named neighbours a summary reads (as the SQLite summary query). */
const SUMMARY_ROWS = 200;

export type SharedCorrelationOptions = SharedWriterOptions;

/**
 * Correlation on a shared OpenSearch store: one instance of the fleet (the lease holder) computes
 * the index into `<prefix>-links` (opensearch-writer.ts), and every instance answers `related`
 * from that index (opensearch-source.ts). No instance builds an index of its own.
 */
export class SharedCorrelation {
  readonly writer: SharedCorrelationWriter;
  private readonly source: LinksWalkSource;
  private timer?: NodeJS.Timeout;
  private failures = 0;
  readonly maxFanout: number;

  constructor(private readonly o: SharedCorrelationOptions) {
    this.writer = new SharedCorrelationWriter(o);
    this.source = new LinksWalkSource(o.links);
    this.maxFanout = o.maxFanout;
  }

  /** As the lease holder, applies and publishes the changes so far; a no-op on other instances. */
  async catchUp(_store?: Store): Promise<{ leading: boolean }> {
    return { leading: await this.writer.tick() };
  }

  /** Takes or renews the lease and follows the change log every `intervalMs`; a failure is logged once and retried. */
  start(intervalMs: number): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      this.writer.tick().then(
        () => {
          if (this.failures > 0) this.o.logger?.info({}, 'correlation links writer recovered');
          this.failures = 0;
        },
        (e: unknown) => {
          if (this.failures++ === 0) this.o.logger?.warn({ err: e }, 'correlation links writer failed; retrying');
        },
      );
    }, intervalMs);
    this.timer.unref();
  }

  get healthy(): boolean {
    return this.failures < 3;
  }

  async related(store: Store, id: string, o: RelatedOptions = {}): Promise<RelatedResult | undefined> {
    await this.source.loadDict();
    return relatedOf(new Walker(this.source, this.maxFanout), store, id, o, this.o.access);
  }

  /** Names of the malware, actors, … linked directly to an object (as Correlator.relatedSummary). */
  async summary(id: string, maxTlp?: TlpLevel): Promise<RelatedSummary> {
    await this.source.loadDict();
    const node = await this.source.nodeOf(id);
    if (!node) return summaryOf([], maxTlp);
    const edges: EdgeRow[] = [
      ...(await this.source.out(node.n, SUMMARY_ROWS)),
      ...(await this.source.in(node.n, SUMMARY_ROWS)),
    ];
    const docs = await this.o.links.get([...new Set(edges.map((e) => `node:${e.m}`))]);
    const rows: { type: string; name: string; tlp: number }[] = [];
    for (const d of docs.values())
      if (typeof d.name === 'string')
        rows.push({ type: this.source.name(Number(d.type)), name: d.name, tlp: Number(d.tlp) });
    return summaryOf(rows, maxTlp);
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.writer.close();
  }
}
