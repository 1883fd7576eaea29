import Bottleneck from 'bottleneck';
import type { StixObject } from '../../src/core/stix.js';
import { DeadLetterFile } from '../../src/delivery/dead-letter.js';
import type { SinkRunOptions } from '../../src/delivery/runner.js';
import type { CommonSinkConfig, Sink } from '../../src/delivery/types.js';
import type { HttpClient } from '../../src/http/types.js';
import { type RunSummary, runSource } from '../../src/pipeline/runner.js';
import type { CommonSourceConfig, Page, Source } from '../../src/pipeline/types.js';
import type { Store } from '../../src/store/contract.js';
import { type Logger, silentLogger } from '../../src/telemetry/logger.js';
import type { Metrics } from '../../src/telemetry/metrics.js';

/**
 * The source and sink runners without a network: the tests (and benches) that feed objects they
 * built straight into a store, or push a store to an in-memory sink, share these options.
 */

/** An HTTP client for runs that must not reach the network: every request fails with "no http". */
export const NO_HTTP: HttpClient = {
  request: async () => {
    throw new Error('no http');
  },
};

/** A source that yields the given objects as one page. */
export function pageSource(objects: StixObject[]): Source {
  return {
    async *pages(): AsyncIterable<Page> {
      yield { items: objects.map((object) => ({ object })), rejections: [], received: objects.length, cursor: 'done' };
    },
  };
}

export interface PageIngest {
  /** The source id the objects are stored under. */
  id: string;
  objects: StixObject[];
  store: Store;
  now: () => number;
  /** Source configuration beyond `type: test` and no labels (confidence, tlp). */
  config?: Partial<CommonSourceConfig>;
  /** Whether TLP:RED objects are kept (default true). */
  allowRed?: boolean;
  metrics?: Metrics;
}

/** One run of the source runner over `objects` as a single page, TLP of unmarked objects AMBER. */
export function ingestPage(o: PageIngest): Promise<RunSummary> {
  return runSource({
    id: o.id,
    source: pageSource(o.objects),
    config: { type: 'test', labels: [], ...o.config } as CommonSourceConfig,
    store: o.store,
    metrics: o.metrics,
    http: NO_HTTP,
    logger: silentLogger(),
    allowRed: o.allowRed ?? true,
    defaultTlp: 'amber',
    signal: new AbortController().signal,
    now: o.now,
  });
}

export interface OfflinePush {
  id: string;
  sink: Sink;
  config: CommonSinkConfig;
  store: Store;
  mapping: Record<string, string>;
  /** The dead-letter file, or its path. */
  deadLetter: DeadLetterFile | string;
  now: () => number;
  /** Batches in flight (the limiter's slots, default 1). */
  concurrency?: number;
  metrics?: Metrics;
  logger?: Logger;
}

/** The sink runner's options for a push of `store` to `sink` with no network and a fresh limiter. */
export function offlinePush(o: OfflinePush): SinkRunOptions {
  return {
    id: o.id,
    sink: o.sink,
    config: o.config,
    store: o.store,
    http: NO_HTTP,
    logger: o.logger ?? silentLogger(),
    ...(o.metrics ? { metrics: o.metrics } : {}),
    mapping: o.mapping,
    deadLetter: typeof o.deadLetter === 'string' ? new DeadLetterFile(o.deadLetter) : o.deadLetter,
    limiter: new Bottleneck({ maxConcurrent: o.concurrency ?? 1 }),
    signal: new AbortController().signal,
    now: o.now,
  };
}
