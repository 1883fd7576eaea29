import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { accessPolicy } from '../../../src/access/policy.js';
import { validate } from '../../../src/core/schema.js';
import type { StixObject, TlpLevel } from '../../../src/core/stix.js';
import { buildIndex } from '../../../src/lookup/index.js';
import { NO_DECAY_SCORING } from '../../../src/score/model.js';
import { type buildServer, hashApiKey, serverSchema, taxiiSchema } from '../../../src/server/index.js';
import { openEmbeddedStore } from '../../../src/store/embedded/index.js';
import type { Store } from '../../../src/store/contract.js';
import { ingestPage } from '../../helpers/offline-run.js';
import { quietServer } from '../helpers.js';

/** A TAXII server over a real embedded store, with keys per role and a settable clock. */

export const T0 = Date.parse('2026-03-01T00:00:00.000Z');
export const ACCESS = accessPolicy({ defaultTlp: 'amber', scoring: NO_DECAY_SCORING });
export const TAXII_KEYS = {
  green: 'k-taxii-green-0123456789abcdef',
  amber: 'k-taxii-amber-0123456789abcdef',
  writer: 'k-taxii-writer-0123456789abcdef',
  lookup: 'k-lookup-only-0123456789abcdef',
} as const;
export const bearer = (k: string) => ({ authorization: `Bearer ${k}` });
export const TAXII = 'application/taxii+json;version=2.1';

export const DEFAULT_COLLECTIONS = {
  public: { max_tlp: 'clear', anonymous_read: true },
  shared: {
    id: '6b4e0a3c-2f1d-4e5a-9c8b-7a6f5e4d3c2b',
    title: 'Shared',
    max_tlp: 'amber',
    read_keys: ['green', 'amber', 'writer'],
  },
  inbox: {
    id: '0d6a9f2e-8b7c-4d1e-a3f5-c2b4e6d8f0a1',
    max_tlp: 'amber',
    read_keys: ['writer'],
    write_keys: ['writer'],
    write_tlp: 'green',
  },
};

export interface Rig {
  store: Store;
  app: ReturnType<typeof buildServer>;
  url: string;
  dataDir: string;
  setNow(ms: number): void;
  now(): number;
  ingest(source: string, objects: StixObject[], tlp?: TlpLevel): Promise<void>;
  get(
    url: string,
    key?: string,
    headers?: Record<string, string>,
  ): Promise<{ status: number; headers: Record<string, unknown>; body: any }>;
  restart(): Promise<void>;
}

export async function taxiiRig(
  t: TestContext,
  o: { collections?: Record<string, unknown>; listen?: boolean; taxii?: Record<string, unknown> } = {},
): Promise<Rig> {
  const dir = mkdtempSync(join(tmpdir(), 'stixgate-taxii-srv-'));
  const dataDir = join(dir, 'data');
  const store = await openEmbeddedStore({ dataDir });
  let now = T0;
  const cfg = validate(serverSchema, {
    anonymous_lookup: true,
    rate_limit: { enabled: false },
    api_keys: {
      green: { hash: hashApiKey(TAXII_KEYS.green), scopes: ['taxii'], max_tlp: 'green' },
      amber: { hash: hashApiKey(TAXII_KEYS.amber), scopes: ['taxii', 'lookup'], max_tlp: 'amber' },
      writer: { hash: hashApiKey(TAXII_KEYS.writer), scopes: ['taxii'], max_tlp: 'amber' },
      lookup: { hash: hashApiKey(TAXII_KEYS.lookup), scopes: ['lookup'], max_tlp: 'amber' },
    },
  });
  if (!cfg.ok) throw new Error(JSON.stringify(cfg.issues));
  const tc = validate(taxiiSchema, {
    max_page_size: 50,
    ...o.taxii,
    api_roots: { default: { collections: o.collections ?? DEFAULT_COLLECTIONS } },
  });
  if (!tc.ok) throw new Error(JSON.stringify(tc.issues));
  const build = async () => {
    const { index } = await buildIndex(store, { now: () => now, access: ACCESS });
    return quietServer({
      config: cfg.value,
      index,
      store,
      now: () => now,
      access: ACCESS,
      taxii: { config: tc.value, dataDir, ingest: { allowRed: false, defaultTlp: 'amber' } },
    });
  };
  const rig: Rig = {
    store,
    dataDir,
    url: '',
    app: await build(),
    setNow: (ms) => {
      now = ms;
    },
    now: () => now,
    async ingest(source, objects, tlp) {
      await ingestPage({ id: source, objects, store, now: () => now, config: { tlp }, allowRed: false });
    },
    async get(url, key, headers = {}) {
      const res = await rig.app.inject({
        method: 'GET',
        url,
        headers: { accept: TAXII, ...(key ? bearer(key) : {}), ...headers },
      });
      return { status: res.statusCode, headers: res.headers, body: res.body ? JSON.parse(res.body) : undefined };
    },
    async restart() {
      await rig.app.close();
      rig.app = await build();
    },
  };
  if (o.listen) {
    await rig.app.listen({ host: '127.0.0.1', port: 0 });
    rig.url = `http://127.0.0.1:${(rig.app.server.address() as AddressInfo).port}`;
  }
  t.after(async () => {
    await rig.app.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return rig;
}

/** `n` indicators for IPs 192.0.2.x / 198.51.100.x …, marked at `tlp`, modified at `T0 + minute`. */
export function ipIndicators(n: number, prefix: string, tlpMarking: string | undefined, minute = 0): StixObject[] {
  const t = new Date(T0 - 86_400_000 + minute * 60_000).toISOString();
  return Array.from({ length: n }, (_, i) => {
    const value = `${prefix}.${Math.floor(i / 250)}.${(i % 250) + 1}`;
    const o: StixObject = {
      type: 'indicator',
      spec_version: '2.1',
      id: `indicator--${uuidFor(`${prefix}-${i}`)}`,
      created: t,
      modified: t,
      pattern: `[ipv4-addr:value = '${value}']`,
      pattern_type: 'stix',
      valid_from: t,
      name: `ioc ${value}`,
    };
    if (tlpMarking) o.object_marking_refs = [tlpMarking];
    return o;
  });
}

function uuidFor(s: string): string {
  let h = 0n;
  for (const c of Buffer.from(s)) h = (h * 131n + BigInt(c)) & ((1n << 122n) - 1n);
  const hex = h.toString(16).padStart(32, '0');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
