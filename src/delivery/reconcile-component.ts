import type { Store } from '../store/contract.js';
import type { Metrics } from '../telemetry/metrics.js';
import type { AccessPolicy } from '../access/policy.js';
import { componentParts, type SinkComponent } from './component.js';
import type { PublishCheck } from './select.js';
import { reconcileSink, type ReconcileResult } from './reconcile.js';

/** Reconcile of one configured sink with its client, limiter, mapping table and dead-letter file (the daemon's and the CLI's). */
export function reconcileSinkComponent(
  c: SinkComponent,
  o: {
    store: Store;
    metrics?: Metrics;
    signal: AbortSignal;
    now: () => number;
    publish?: PublishCheck;
    access?: AccessPolicy;
    apply: boolean;
    listLimit?: number;
    tmpDir?: string;
  },
): Promise<ReconcileResult> {
  return reconcileSink({ ...componentParts(c), ...o });
}
