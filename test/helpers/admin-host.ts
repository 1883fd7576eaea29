import { reconcileSinkComponent } from '../../src/delivery/reconcile-component.js';
import { registry } from '../../integrations/index.js';
import { createAdminControl, PauseBook } from '../../src/daemon-admin.js';
import { documentTypes } from '../../src/daemon-ingest.js';
import { runSinkComponent, type SinkComponent } from '../../src/delivery/component.js';
import type { AccessPolicy } from '../../src/access/policy.js';
import type { SourceComponent } from '../../src/pipeline/components.js';
import { Scheduler } from '../../src/pipeline/scheduler.js';
import type { AdminControl } from '../../src/server/admin-types.js';
import type { Store } from '../../src/store/contract.js';
import { Metrics } from '../../src/telemetry/metrics.js';
import { must } from './must.js';

/**
 * The admin control over a store and sink components without a daemon (route-level tests: the
 * route × method × key matrix, the TLP matrix). Dry runs and statistics are the real ones; runs,
 * reloads and ingests need a daemon (test/e2e/admin-api.test.ts) and are refused here.
 */
export function adminWithoutDaemon(o: {
  store: Store;
  sinks?: SinkComponent[];
  access?: AccessPolicy;
  now?: () => number;
  sources?: ReadonlyMap<string, SourceComponent>;
}): AdminControl {
  const sinks = new Map((o.sinks ?? []).map((c) => [c.id, c]));
  const scheduler = new Scheduler();
  const refuse = () => Promise.reject(new Error('no daemon in this test'));
  return createAdminControl({
    scheduler: () => scheduler,
    sources: () => o.sources ?? new Map(),
    sinks: () => sinks,
    store: () => o.store,
    metrics: new Metrics({ defaults: false }),
    pauses: new PauseBook(),
    lastSummary: new Map(),
    runSource: refuse,
    push: refuse,
    reconcile: (id, apply, limit) =>
      reconcileSinkComponent(must(sinks.get(id), 'sinks.get(id)'), {
        store: o.store,
        signal: new AbortController().signal,
        now: o.now ?? Date.now,
        access: o.access,
        apply,
        listLimit: limit,
      }),
    dryRun: (id, full) =>
      runSinkComponent(must(sinks.get(id), 'sinks.get(id)'), {
        store: o.store,
        signal: new AbortController().signal,
        now: o.now ?? Date.now,
        full,
        dryRun: true,
        access: o.access,
      }),
    reload: async () => ({ ok: false, message: 'no daemon in this test' }),
    ingestTypes: () => documentTypes(registry),
    ingest: refuse,
    log: () => undefined,
  });
}
