import { componentParts, type SinkComponent, type SinkRunInputs } from './component.js';
import { reconcileSink, type ReconcileResult } from './reconcile.js';

/** Reconcile of one configured sink with its client, limiter, mapping table and dead-letter file (the daemon's and the CLI's). */
export function reconcileSinkComponent(
  c: SinkComponent,
  o: SinkRunInputs & { apply: boolean; listLimit?: number; tmpDir?: string },
): Promise<ReconcileResult> {
  return reconcileSink({ ...componentParts(c), ...o });
}
