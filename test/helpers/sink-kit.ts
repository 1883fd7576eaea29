import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { indicatorFromObservable } from '../../src/core/indicator.js';
import { detectObservable } from '../../src/core/observable.js';
import { TLP_MARKING_IDS, type StixObject, type TlpLevel } from '../../src/core/stix.js';
import type { ClosableHttpClient } from '../../src/http/client.js';
import { loadSinkMapping, recordsFor } from '../../src/delivery/records.js';
import { decide } from '../../src/delivery/select.js';
import type { CommonSinkConfig, SinkRecord, SinkRunContext } from '../../src/delivery/types.js';
import type { IntegrationContext } from '../../src/pipeline/types.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { PROJECT_ROOT as root } from './corpus.js';
import { PYTHON } from './validator.js';
import { must } from './must.js';
import { loopbackHttp } from './loopback-http.js';

/**
 * Set-up shared by the sink test kits (QRadar, XSOAR): run context, common config, indicators,
 * records; and the Python-oracle runner of the simulator fidelity tests.
 */

/** The clock of the sink tests. */
export const NOW = Date.parse('2026-03-01T12:00:00Z');

/** Integration context rooted at the project (mappings/ from the repository). */
export const ictx: IntegrationContext = {
  logger: silentLogger(),
  configDir: root,
  mappingsDir: join(root, 'mappings'),
};

export type After = { after: (fn: () => Promise<void> | void) => void };

/** A run context whose HttpClient does not retry (the tests see each failure); closed after the test. */
export function runContext(
  t: After,
  id: string,
  over: { totalTimeoutMs?: number; maxAttempts?: number } = {},
): SinkRunContext & { http: ClosableHttpClient } {
  const http = loopbackHttp(id, {
    totalTimeoutMs: over.totalTimeoutMs ?? 10_000,
    maxBytes: 64 << 20,
    retry: { maxAttempts: over.maxAttempts ?? 1, baseDelayMs: 1, maxDelayMs: 5, maxRetryAfterMs: 60_000 },
  });
  t.after(() => http.close());
  return { id, logger: silentLogger(), http, signal: new AbortController().signal, now: NOW };
}

/** The common sink keys for a loopback simulator: private and plain-HTTP targets allowed, fast retries, no filters (`over` replaces keys). */
export function commonConfig(type: string, over: Partial<CommonSinkConfig> = {}): CommonSinkConfig {
  return {
    type,
    enabled: true,
    max_tlp: 'amber',
    timeout_secs: 10,
    allow_private: true,
    allow_insecure: true,
    verify_tls: true,
    filters: { types: [], min_score: 0, labels: [], exclude_labels: [], sources: [] },
    retry: { max_attempts: 3, base_delay_secs: 0.001, max_delay_secs: 0.01 },
    ...over,
  } as CommonSinkConfig;
}

/** An indicator as the store holds it (score, sources) for one raw value. */
export function indicator(value: string, score: number | null = 80, extra: Partial<StixObject> = {}): StixObject {
  const r = detectObservable(value);
  if (!r.ok) throw new Error(`not an observable: ${value}`);
  const now = new Date(NOW - 60_000).toISOString();
  return {
    ...indicatorFromObservable(r.observable, { now, name: `bad ${value}` }),
    x_stixgate: {
      ...(score === null ? {} : { score }),
      sources: { feed_a: { first_seen: now, last_seen: now, tlp: tlpOfExtra(extra) } },
    },
    ...extra,
  } as StixObject;
}

const mappings = new Map<string, Record<string, string>>();

/** The records the engine would build for these indicators with mappings/sinks/<sink>.yaml. */
export function mappedRecords(sink: string, objects: StixObject[], op: 'upsert' | 'remove' = 'upsert'): SinkRecord[] {
  let fields = mappings.get(sink);
  if (!fields) {
    fields = loadSinkMapping(join(ictx.mappingsDir, 'sinks', `${sink}.yaml`)).fields;
    mappings.set(sink, fields);
  }
  return objects.flatMap((o, i) => viewRecords(o, i + 1, op, must(fields, 'fields')));
}

/** `n` distinct IPv4 addresses (10.x.y.z). */
export function ips(n: number, offset = 0): string[] {
  return Array.from({ length: n }, (_, i) => {
    const k = i + offset + 1;
    return `10.${(k >> 16) & 255}.${(k >> 8) & 255}.${k & 255}`;
  });
}

/** One step of a Python oracle script's JSON report. */
export interface OracleStep {
  ok: boolean;
  value?: unknown;
  status?: number;
  error?: string;
  body?: string;
}

/**
 * Runs scripts/oracles/<script> with the oracle Python (STIXGATE_PYTHON) asynchronously, so that a
 * simulator in this process keeps serving, and parses its report (a JSON object of steps).
 * `ok(step)` asserts the step succeeded and returns its value.
 */
export async function runOracle(
  script: string,
  args: string[],
): Promise<{ steps: Record<string, OracleStep>; ok: (step: string) => any }> {
  if (!PYTHON) throw new Error('STIXGATE_PYTHON not set: run through scripts/integration.sh');
  const r = await promisify(execFile)(PYTHON, [join(root, 'scripts', 'oracles', script), ...args], {
    encoding: 'utf8',
    timeout: 90_000,
  });
  const steps = JSON.parse(r.stdout) as Record<string, OracleStep>;
  const ok = (k: string): any => {
    assert.ok(steps[k], `step ${k} missing`);
    assert.equal(
      must(steps[k], 'steps[k]').ok,
      true,
      `${k}: ${must(steps[k], 'steps[k]').error} ${must(steps[k], 'steps[k]').body ?? ''}`,
    );
    return must(steps[k], 'steps[k]').value;
  };
  return { steps, ok };
}

/** The contribution TLP a test indicator's `object_marking_refs` states (default green), as ingest records it. */
export function tlpOfExtra(extra: Partial<StixObject>): TlpLevel {
  for (const ref of extra.object_marking_refs ?? []) if (TLP_MARKING_IDS[ref]) return TLP_MARKING_IDS[ref];
  return 'green';
}

/** The records the engine builds for one stored object: from its view at TLP:RED (src/access), as a sink sees it. */
export function viewRecords(
  o: StixObject,
  seq: number,
  op: 'upsert' | 'remove',
  fields: Record<string, string>,
): SinkRecord[] {
  const d = decide(o, op === 'remove' ? 'revoke' : 'upsert', { ...commonConfig('kit'), max_tlp: 'red' }, NOW);
  if (d.action === 'skip') throw new Error(`${o.id} is not for a sink`);
  return recordsFor(d.object, seq, op, op === 'remove' ? 'revoked' : undefined, fields, d.facts);
}
