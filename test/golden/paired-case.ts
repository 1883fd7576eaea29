import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { Rejection } from '../../src/core/errors.js';
import type { StixObject } from '../../src/core/stix.js';
import type { CommonSourceConfig, SourceDefinition } from '../../src/pipeline/types.js';
import { PROJECT_ROOT } from '../helpers/corpus.js';
import { collect, GOLDEN_NOW } from './run-source.js';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ClosableHttpClient } from '../../src/http/client.js';
import { startTaxiiServer } from '../../integrations/taxii21/test-server.js';
import { must } from '../helpers/must.js';
import { loopbackHttp } from '../helpers/loopback-http.js';

/**
 * Paired golden files: `test/golden/paired/<source type>/<case>/` holds one input document
 * (`input.<ext>`), optionally `options.json` (`{ "source": {…the type's own keys…}, "common": {…} }`)
 * and `expected.json`: every object the source maps the input to, sorted by id, and every
 * rejection (reason and location). Compared object by object. `npm run golden:update` rewrites
 * the expected files; the diff is what a reviewer reads.
 */
export const PAIRED_DIR = join(PROJECT_ROOT, 'test', 'golden', 'paired');

export interface PairedCase {
  type: string;
  name: string;
  dir: string;
  input: string;
  options: {
    source?: Record<string, unknown>;
    common?: Partial<CommonSourceConfig>;
    /**
     * API sources: the input is served on 127.0.0.1 instead of read as a file. `any`: every
     * request is answered with the input (one-page APIs: abuse.ch, OTX); `taxii21`: the input is
     * an envelope whose objects a TAXII 2.1 server serves (discovery, API root, one collection).
     * The source's `url` is the server's.
     */
    serve?: 'any' | 'taxii21';
  };
}

export interface PairedResult {
  objects: StixObject[];
  rejections: { reason: string; location?: Rejection['location']; message: string }[];
}

export function pairedCases(): PairedCase[] {
  if (!existsSync(PAIRED_DIR)) return [];
  const out: PairedCase[] = [];
  for (const type of readdirSync(PAIRED_DIR).sort()) {
    const typeDir = join(PAIRED_DIR, type);
    if (!statSync(typeDir).isDirectory()) continue;
    for (const name of readdirSync(typeDir).sort()) {
      const dir = join(typeDir, name);
      if (!statSync(dir).isDirectory()) continue;
      const inputs = readdirSync(dir).filter((f) => f.startsWith('input.'));
      assert.equal(inputs.length, 1, `${relative(PROJECT_ROOT, dir)} needs exactly one input.<ext> file`);
      const optionsFile = join(dir, 'options.json');
      const options = existsSync(optionsFile)
        ? (JSON.parse(readFileSync(optionsFile, 'utf8')) as PairedCase['options'])
        : {};
      out.push({ type, name, dir, input: join(dir, must(inputs[0], 'inputs[0]')), options });
    }
  }
  return out;
}

/** Maps a case's input through its source type, as the daemon would on the golden clock. */
export async function runPaired(def: SourceDefinition<any>, c: PairedCase): Promise<PairedResult> {
  const served = c.options.serve ? await serveInput(c.options.serve, c.input) : undefined;
  let collected: Awaited<ReturnType<typeof collect>>;
  try {
    collected = served
      ? await collect(
          def,
          { ...c.options.source, url: served.url },
          { common: { ...c.options.common, allow_private: true, allow_insecure: true }, http: served.http },
        )
      : await collect(def, { ...c.options.source, url: c.input }, { common: c.options.common });
  } finally {
    await served?.close();
  }
  const objects = collected.items.map((i) => i.object).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const rejections = collected.rejections.map((r) => ({
    reason: r.reason,
    ...(r.location ? { location: r.location } : {}),
    message: r.message,
  }));
  return { objects, rejections };
}

/** Compares with the case's expected.json object by object (UPDATE_GOLDEN=1 rewrites it). */
export function comparePaired(c: PairedCase, actual: PairedResult): void {
  const file = join(c.dir, 'expected.json');
  const text = `${JSON.stringify(actual, null, 2)}\n`;
  if (process.env.UPDATE_GOLDEN === '1') {
    writeFileSync(file, text);
    return;
  }
  assert.ok(existsSync(file), `${relative(PROJECT_ROOT, file)} is missing: run npm run golden:update and review it`);
  const expected = JSON.parse(readFileSync(file, 'utf8')) as PairedResult;
  const byId = (list: StixObject[]) => new Map(list.map((o) => [o.id, o]));
  const want = byId(expected.objects);
  const got = byId(actual.objects);
  const missing = [...want.keys()].filter((id) => !got.has(id));
  const extra = [...got.keys()].filter((id) => !want.has(id));
  assert.deepEqual(
    { missing, extra },
    { missing: [], extra: [] },
    `${c.type}/${c.name}: objects missing from or added to the mapping`,
  );
  for (const [id, o] of want) assert.deepEqual(got.get(id), o, `${c.type}/${c.name}: ${id} differs`);
  assert.equal(actual.objects.length, expected.objects.length, `${c.type}/${c.name}: duplicate objects`);
  assert.deepEqual(actual.rejections, expected.rejections, `${c.type}/${c.name}: rejections differ`);
}

/** A loopback server for an API source's input, and an HTTP client allowed to reach it. */
async function serveInput(
  mode: 'any' | 'taxii21',
  input: string,
): Promise<{ url: string; http: ClosableHttpClient; close(): Promise<void> }> {
  const http = loopbackHttp('golden', {
    headersTimeoutMs: 10_000,
    bodyTimeoutMs: 10_000,
    totalTimeoutMs: 30_000,
    maxBytes: 64 << 20,
    retry: { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 5, maxRetryAfterMs: 1000 },
  });
  const body = readFileSync(input);
  if (mode === 'taxii21') {
    const objects = (JSON.parse(body.toString('utf8')) as { objects: Record<string, unknown>[] }).objects;
    // date_added: one second apart from an hour before the golden clock, in input order
    const srv = await startTaxiiServer(
      objects.map((obj, i) => ({ obj, dateAdded: new Date(GOLDEN_NOW - 3_600_000 + i * 1000).toISOString() })),
    );
    return {
      url: `${srv.url}/taxii2/`,
      http,
      close: async () => {
        await srv.close();
        await http.close();
      },
    };
  }
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  return {
    url,
    http,
    close: async () => {
      await new Promise((r) => server.close(r));
      await http.close();
    },
  };
}
