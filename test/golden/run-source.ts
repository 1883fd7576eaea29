import { createHash } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';
import type { Rejection } from '../../src/core/errors.js';
import type { CommonSourceConfig, MappedItem, SourceDefinition } from '../../src/pipeline/types.js';
import type { HttpClient } from '../../src/http/types.js';
import { s, validate } from '../../src/core/schema.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { PROJECT_ROOT } from '../helpers/corpus.js';

/** The fixed clock of golden runs: 2026-01-15T12:00:00Z. */
export const GOLDEN_NOW = Date.UTC(2026, 0, 15, 12, 0, 0);

export const COMMON_DEFAULTS: CommonSourceConfig = {
  type: '',
  enabled: true,
  tlp: 'clear',
  labels: [],
  timeout_secs: 120,
  max_feed_bytes: 256 * 1024 * 1024,
  allow_private: false,
  allow_insecure: false,
  verify_tls: true,
  max_bad_ratio: 1,
  min_prefix: { ipv4: 8, ipv6: 16 },
  trusted: false,
  retry: { max_attempts: 1, base_delay_secs: 1, max_delay_secs: 1 },
};

export const NO_HTTP: HttpClient = {
  request: () => Promise.reject(new Error('no network in golden tests')),
};

export interface Collected {
  items: MappedItem[];
  rejections: Rejection[];
  received: number;
  pages: number;
  /** Cursors by page index (only pages that carry one). */
  cursors: { page: number; cursor: string }[];
  pageSizes: number[];
}

/** Runs a source definition over a file (or URL) and collects every page. */
export async function collect<C>(
  def: SourceDefinition<C>,
  own: Record<string, unknown>,
  opts: {
    common?: Partial<CommonSourceConfig>;
    now?: number;
    cursor?: string;
    id?: string;
    http?: HttpClient;
    full?: boolean;
  } = {},
): Promise<Collected> {
  const url = typeof own.url === 'string' && !/^[a-z]+:\/\//.test(own.url) ? pathToFileURL(own.url).href : own.url;
  // The integration's own keys go through its schema (defaults applied, unknown keys refused), as in the engine.
  const parsed = validate(s.object(def.schema), { ...own, url });
  if (!parsed.ok)
    throw new Error(`invalid ${def.type} config: ${parsed.issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`);
  const config = { ...COMMON_DEFAULTS, type: def.type, ...opts.common, ...(parsed.value as object) } as unknown as C &
    CommonSourceConfig;
  const source = def.create(config, {
    logger: silentLogger(),
    configDir: PROJECT_ROOT,
    mappingsDir: join(PROJECT_ROOT, 'mappings'),
  });
  const out: Collected = { items: [], rejections: [], received: 0, pages: 0, cursors: [], pageSizes: [] };
  const ac = new AbortController();
  for await (const page of source.pages({
    id: opts.id ?? 'golden',
    logger: silentLogger(),
    http: opts.http ?? NO_HTTP,
    signal: ac.signal,
    now: opts.now ?? GOLDEN_NOW,
    cursor: opts.cursor,
    full: opts.full,
  })) {
    out.pages++;
    out.pageSizes.push(page.items.length + page.rejections.length);
    out.items.push(...page.items);
    out.rejections.push(...page.rejections);
    out.received += page.received;
    if (page.cursor !== undefined) out.cursors.push({ page: out.pages - 1, cursor: page.cursor });
  }
  return out;
}

export interface GoldenSummary {
  received: number;
  objects: number;
  countsByType: Record<string, number>;
  uniqueIds: number;
  uniqueIndicators: number;
  rejected: number;
  rejectedByReason: Record<string, number>;
  firstIds: string[];
  idsSha256: string;
}

/** The stable summary compared with test/golden/expected/<case>.json. */
export function summarise(c: Collected): GoldenSummary {
  const countsByType: Record<string, number> = {};
  const ids = new Set<string>();
  const indicators = new Set<string>();
  for (const it of c.items) {
    countsByType[it.object.type] = (countsByType[it.object.type] ?? 0) + 1;
    ids.add(it.object.id);
    if (it.object.type === 'indicator') indicators.add(it.object.id);
  }
  const rejectedByReason: Record<string, number> = {};
  for (const r of c.rejections) rejectedByReason[r.reason] = (rejectedByReason[r.reason] ?? 0) + 1;
  const sorted = [...ids].sort();
  return {
    received: c.received,
    objects: c.items.length,
    countsByType: sortKeys(countsByType),
    uniqueIds: ids.size,
    uniqueIndicators: indicators.size,
    rejected: c.rejections.length,
    rejectedByReason: sortKeys(rejectedByReason),
    firstIds: sorted.slice(0, 20),
    idsSha256: createHash('sha256').update(sorted.join('\n')).digest('hex'),
  };
}

function sortKeys<T>(o: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
