import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { accessPolicy } from '../../../src/access/policy.js';
import { validate } from '../../../src/core/schema.js';
import type { StixObject, TlpLevel } from '../../../src/core/stix.js';
import { buildIndex } from '../../../src/lookup/index.js';
import type { SourceComponent } from '../../../src/pipeline/components.js';
import { NO_DECAY_SCORING } from '../../../src/score/model.js';
import { buildServer, hashApiKey, serverSchema } from '../../../src/server/index.js';
import { openEmbeddedStore } from '../../../src/store/embedded/index.js';
import { Metrics } from '../../../src/telemetry/metrics.js';
import { adminWithoutDaemon } from '../../helpers/admin-host.js';
import { registry } from '../../../integrations/index.js';
import { buildConfigSchema } from '../../../src/config/config-schema.js';
import { closeSinkComponent, createSinkComponent } from '../../../src/delivery/component.js';
import { PROJECT_ROOT } from '../../helpers/corpus.js';
import { runSink } from '../../../src/delivery/runner.js';
import { checkSinkMapping } from '../../../src/delivery/records.js';
import type { CommonSinkConfig, Sink, SinkOutcome, SinkRecord } from '../../../src/delivery/types.js';
import { must } from '../../helpers/must.js';
import { offlinePush } from '../../helpers/offline-run.js';

/**
 * A server with the console over a real embedded store holding hostile feed text (the server-side
 * console test and the browser test share it): descriptions with `<script>`, names and labels
 * that try to break out of an attribute, and one AMBER value a CLEAR key must never see.
 */

export const T0 = Date.parse('2026-06-01T00:00:00.000Z');
const HOUR = 3_600_000;
export const SCRIPT_PAYLOAD = '<script>document.title="pwned-by-script";window.__pwned=1</script>';
export const ATTR_PAYLOAD = '"><img src=x onerror="document.title=\'pwned-by-attr\'">';
export const NAME_PAYLOAD = "' autofocus onfocus='document.title=`pwned-by-name`";
export const LABEL_PAYLOAD = '<svg onload=alert(1)>';
/** The remote side's rejection message for evil.example (vendor text reaches the ledger as it came). */
export const VENDOR_PAYLOAD = 'invalid indicator <iframe src="javascript:alert(1)"></iframe>';

/** A remote side in memory: accepts every record but evil.example, which it rejects with `VENDOR_PAYLOAD`. */
class MemorySink implements Sink {
  limits = { maxBatch: 50, concurrency: 1 };
  private answer(records: SinkRecord[]): SinkOutcome[] {
    return records.map(
      (r): SinkOutcome =>
        r.observable.value === 'evil.example' ? { status: 'reject', reason: VENDOR_PAYLOAD } : { status: 'ok' },
    );
  }
  async upsert(records: SinkRecord[]) {
    return this.answer(records);
  }
  async remove(records: SinkRecord[]) {
    return this.answer(records);
  }
}

export const KEYS = {
  ops: 'k-console-ops-5f1e2d3c4b5a69788796',
  searcher: 'k-console-search-clear-0a1b2c3d4e5f',
  adminOnly: 'k-console-admin-only-9a8b7c6d5e4f3a',
  lookupOnly: 'k-console-lookup-only-1f2e3d4c5b6a7',
  metricsOnly: 'k-console-metrics-only-7e6d5c4b3a2',
} as const;

export const IDS = {
  script: 'indicator--0d3e1c4a-1111-4a5b-8c6d-000000000001',
  attr: 'indicator--0d3e1c4a-2222-4a5b-8c6d-000000000002',
  amber: 'indicator--0d3e1c4a-3333-4a5b-8c6d-000000000003',
} as const;

function indicator(id: string, value: string, extra: Partial<StixObject>): StixObject {
  const type = value.includes('.example') ? 'domain-name' : 'ipv4-addr';
  return {
    type: 'indicator',
    spec_version: '2.1',
    id,
    created: '2026-05-01T00:00:00.000Z',
    modified: '2026-05-01T00:00:00.000Z',
    pattern: `[${type}:value = '${value}']`,
    pattern_type: 'stix',
    valid_from: '2026-05-01T00:00:00.000Z',
    ...extra,
  } as StixObject;
}

export async function consoleRig(
  o: {
    now?: () => number;
    sessionSecret?: string;
    keys?: Record<string, unknown>;
    dir?: string;
    /** The Splunk sink's address (default: one nobody answers; the pages only read its state). */
    sinkUrl?: string;
  } = {},
) {
  const dir = o.dir ?? mkdtempSync(join(tmpdir(), 'stixgate-console-'));
  const store = await openEmbeddedStore({ dataDir: join(dir, 'data') });
  const now = o.now ?? (() => T0);
  const items: { object: StixObject; source: string; tlp: TlpLevel; confidence: number }[] = [
    {
      object: indicator(IDS.script, '198.51.100.23', {
        name: 'script in the description',
        description: SCRIPT_PAYLOAD,
        labels: ['malicious-activity'],
      }),
      source: 'feed_x',
      tlp: 'clear',
      confidence: 70,
    },
    {
      object: indicator(IDS.attr, 'evil.example', {
        name: NAME_PAYLOAD,
        description: ATTR_PAYLOAD,
        labels: [LABEL_PAYLOAD],
      }),
      source: 'feed_x',
      tlp: 'green',
      confidence: 60,
    },
    {
      object: indicator(IDS.amber, '10.66.0.1', { name: 'amber-only secret name', description: 'AMBER-SECRET-TEXT' }),
      source: 'feed_amber',
      tlp: 'amber',
      confidence: 90,
    },
  ];
  if ((await store.head()) === 0) {
    await store.upsert(items, { now: T0 });
    // a score history for the <script> object: feed_x raises its confidence (an entry a CLEAR key
    // sees), then the AMBER feed delivers the same content (an entry behind an AMBER contribution)
    const script = must(items[0], 'the <script> item');
    await store.upsert([{ ...script, confidence: 80 }], { now: T0 + HOUR });
    await store.upsert([{ ...script, source: 'feed_amber', tlp: 'amber', confidence: 85 }], { now: T0 + 2 * HOUR });
  }
  const access = accessPolicy({ defaultTlp: 'amber', scoring: NO_DECAY_SCORING });
  const { index } = await buildIndex(store, { now, access });
  const keys = o.keys ?? {
    ops: { hash: hashApiKey(KEYS.ops), scopes: ['admin', 'search', 'lookup'], max_tlp: 'amber' },
    searcher: { hash: hashApiKey(KEYS.searcher), scopes: ['search', 'lookup'], max_tlp: 'clear' },
    admin_only: { hash: hashApiKey(KEYS.adminOnly), scopes: ['admin'], max_tlp: 'amber' },
    lookup_only: { hash: hashApiKey(KEYS.lookupOnly), scopes: ['lookup'] },
    metrics_only: { hash: hashApiKey(KEYS.metricsOnly), scopes: ['metrics'] },
  };
  const cfg = validate(serverSchema, {
    api_keys: keys,
    rate_limit: { enabled: false },
    ...(o.sessionSecret ? { console: { session_secret: o.sessionSecret } } : {}),
  });
  if (!cfg.ok) throw new Error(JSON.stringify(cfg.issues));
  const sources = new Map<string, SourceComponent>([
    ['feed_x', { id: 'feed_x', config: { type: 'text_list' } } as unknown as SourceComponent],
    ['feed_amber', { id: 'feed_amber', config: { type: 'csv' } } as unknown as SourceComponent],
  ]);
  // one sink (never contacted: the pages read its cursor and state)
  const sinkConfig = validate(buildConfigSchema(registry), {
    sinks: {
      splunk_main: {
        type: 'splunk_kv',
        url: o.sinkUrl ?? 'https://127.0.0.1:9',
        auth: { username: 'u', password: 'p' },
        max_tlp: 'green',
        allow_insecure: true,
      },
    },
  });
  if (!sinkConfig.ok) throw new Error(JSON.stringify(sinkConfig.issues));
  const sinks = Object.entries(sinkConfig.value.sinks).map(([id, c]) =>
    createSinkComponent(id, c as never, {
      registry,
      logger: pino({ level: 'silent' }),
      configDir: dir,
      mappingsDir: join(PROJECT_ROOT, 'mappings'),
      dataDir: join(dir, 'data'),
    }),
  );
  // one push of that sink through the real runner (to an in-memory remote side): the delivery ledger's rows
  if ((await store.getCursor('sink:splunk_main')) === undefined) {
    await runSink({
      ...offlinePush({
        id: 'splunk_main',
        sink: new MemorySink(),
        config: {
          ...(must(sinks[0], 'sinks[0]').config as CommonSinkConfig),
          filters: { types: [], min_score: 0, labels: [], exclude_labels: [], sources: [] },
        },
        store,
        logger: pino({ level: 'silent' }),
        mapping: checkSinkMapping({ fields: { value: 'value' } }, 'console').fields,
        deadLetter: join(dir, 'dead-letter', 'splunk_main.jsonl'),
        now: () => T0 + 60_000,
      }),
      access,
    });
  }
  const metrics = new Metrics({ defaults: false });
  const app = buildServer({
    config: cfg.value,
    index,
    store,
    metrics,
    logger: pino({ level: 'silent' }),
    isReady: () => true,
    now,
    access,
    admin: adminWithoutDaemon({ store, access, now, sources, sinks }),
    sinks: () => sinks.map((c) => c.id),
  });
  await app.ready();
  return {
    app,
    store,
    dir,
    async close(keepDir = false) {
      await app.close();
      for (const c of sinks) await closeSinkComponent(c);
      await store.close();
      if (!keepDir) rmSync(dir, { recursive: true, force: true });
    },
  };
}
