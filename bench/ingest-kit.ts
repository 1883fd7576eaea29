/** Shared pieces of the ingest workloads: synthetic CSV feeds, a configured source, a timed run, a store pre-fill. */
import { mkdtempSync, createWriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunSummary } from '../src/pipeline/runner.js';
import type { Store, IngestItem } from '../src/store/contract.js';
import { detectObservable } from '../src/core/observable.js';
import { indicatorFromObservable } from '../src/core/indicator.js';
import { syntheticValue, cpuSeconds } from './lib.js';
import { RUN_NOW, csvDaysBefore, isoDaysBefore } from './clock.js';
import { runComponent, sourceComponent } from '../test/helpers/source-harness.js';

export const NOW = RUN_NOW;
const FIRST_SEEN = csvDaysBefore(31);
const LAST_SEEN = csvDaysBefore(2);
export const TYPE_MAP = { ip: 'ipv4-addr', domain: 'domain-name', url: 'url', sha256: 'file' };
const CSV_TYPE: Record<string, string> = { 'ipv4-addr': 'ip', 'domain-name': 'domain', url: 'url', sha256: 'sha256' };
export const CSV_COLUMNS = {
  value: 'value',
  type_column: 'type',
  type_map: TYPE_MAP,
  first_seen: 'first_seen',
  last_seen: 'last_seen',
  labels: ['tags'],
};

export function tmp(name: string): string {
  return mkdtempSync(join(tmpdir(), `stixgate-bench-${name}-`));
}

/**
 * A CSV feed of n synthetic values starting at `offset` (every `changedEvery`-th row tagged
 * differently); with `wrap`, value numbers wrap around at it (a feed rotating within a fixed set).
 */
export async function writeCsv(path: string, n: number, changedEvery = 0, offset = 0, wrap = 0): Promise<void> {
  const out = createWriteStream(path);
  out.write('type,value,first_seen,last_seen,tags\n');
  let buf = '';
  for (let i = 0; i < n; i++) {
    const { type, value } = syntheticValue(wrap ? (i + offset) % wrap : i + offset);
    const tag = changedEvery && i % changedEvery === 0 ? 'botnet;changed' : 'botnet';
    buf += `${CSV_TYPE[type]},${value},${FIRST_SEEN},${LAST_SEEN},${tag}\n`;
    if (buf.length > 1 << 20) {
      if (!out.write(buf)) await new Promise<void>((r) => out.once('drain', () => r()));
      buf = '';
    }
  }
  out.end(buf);
  await new Promise<void>((r) => out.on('finish', () => r()));
}

/** A source component `bench` of `type` at `url` (loopback, documents up to 4 GiB, an hour to fetch them). */
export function source(type: string, url: string, options: Record<string, unknown>) {
  return sourceComponent(
    'bench',
    {
      type,
      url,
      allow_private: true,
      allow_insecure: true,
      max_feed_bytes: 4 * 1024 ** 3,
      timeout_secs: 3600,
      ...options,
    },
    { file: 'bench.yaml' },
  );
}

export async function ingest(
  store: Store,
  comp: ReturnType<typeof source>,
  full = true,
): Promise<{ sum: RunSummary; secs: number; cpu: number }> {
  const t0 = performance.now();
  const c0 = cpuSeconds();
  const sum = await runComponent(comp, store, NOW, { full });
  return { sum, secs: (performance.now() - t0) / 1000, cpu: cpuSeconds() - c0 };
}

/** Pre-fills a store with n synthetic indicators (values `offset`…`offset + n - 1`). */
export async function fill(store: Store, n: number, offset = 0): Promise<void> {
  const batch: IngestItem[] = [];
  for (let i = 0; i < n; i++) {
    const { value } = syntheticValue(i + offset);
    const r = detectObservable(value);
    if (!r.ok) continue;
    batch.push({
      object: indicatorFromObservable(r.observable, { now: isoDaysBefore(31), labels: ['botnet'] }),
      source: `feed${i % 3}`,
      confidence: 70,
      tlp: 'clear',
    });
    if (batch.length === 20_000) await store.upsert(batch.splice(0), { now: NOW });
  }
  if (batch.length) await store.upsert(batch, { now: NOW });
}
