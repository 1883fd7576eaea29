import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { StixgateError } from '../../src/core/errors.js';
import { cursorName } from '../../src/pipeline/runner.js';
import { openEmbeddedStore } from '../../src/store/embedded/index.js';
import { must } from '../helpers/must.js';
import { runComponent, settled, sourceComponent } from '../helpers/source-harness.js';

/**
 * The declared behaviour of `transfer: document` sources for a document that downloads completely
 * but fails part-way through mapping (a truncated bundle, too many bad records): the whole objects
 * read before the failure stay stored, the cursor does not move, the error names the source and
 * the reason, and the next run reads the whole document again, converging on the same store with
 * no duplicates (docs/networks.md#atomic-documents).
 */
const NOW = Date.parse('2026-03-01T12:00:00Z');

function ips(from: number, n: number): string {
  let out = '';
  for (let i = from; i < from + n; i++) out += `45.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}\n`;
  return out;
}

function indicator(i: number): string {
  const hex = i.toString(16).padStart(12, '0');
  return JSON.stringify({
    type: 'indicator',
    spec_version: '2.1',
    id: `indicator--00000000-0000-4000-8000-${hex}`,
    created: '2026-01-01T00:00:00.000Z',
    modified: '2026-01-01T00:00:00.000Z',
    pattern: `[ipv4-addr:value = '45.1.${(i >> 8) & 255}.${i & 255}']`,
    pattern_type: 'stix',
    valid_from: '2026-01-01T00:00:00Z',
  });
}

async function scenario(
  t: { after: (fn: () => unknown) => void },
  type: string,
  path: string,
  bodies: [string, string][],
  extra: Record<string, unknown> = {},
) {
  let served = 0;
  const server = createServer((_req, res) => {
    const [body, etag] = must(
      bodies[Math.min(served++, bodies.length - 1)],
      'bodies[Math.min(served++, bodies.length - 1)]',
    );
    res.writeHead(200, { 'content-type': type === 'stix_bundle' ? 'application/json' : 'text/plain', etag });
    res.end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/${path}`;
  const dir = mkdtempSync(join(tmpdir(), 'stixgate-parsefail-'));
  const store = await openEmbeddedStore({ dataDir: join(dir, 'data') });
  const comp = sourceComponent('feed', {
    type,
    url,
    allow_private: true,
    allow_insecure: true,
    tlp: 'clear',
    retry: { max_attempts: 1 },
    ...extra,
  });
  t.after(async () => {
    await comp.http.close();
    await store.close();
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const run = async () => {
    const r = await settled(runComponent(comp, store, NOW, { allowRed: true, batchSize: 500 }));
    return { sum: r.value, error: r.error };
  };
  const indicators = async () => (await store.stats()).byType.indicator ?? 0;
  const cursor = () => store.getCursor(cursorName('feed'));
  return { run, indicators, cursor };
}

test('document sources, parse failure part-way (too many bad records): whole objects before it stay, cursor unchanged; the next run converges', async (t) => {
  // 3,000 good lines (six store transactions of 500), then 3,000 bad ones: over max_bad_ratio
  const bad = ips(0, 3000) + 'not an address\n'.repeat(3000);
  const s = await scenario(
    t,
    'text_list',
    'list.txt',
    [
      [bad, '"v1"'],
      [ips(0, 3200), '"v2"'],
    ],
    { value_type: 'ipv4-addr', max_bad_ratio: 0.2 },
  );
  const first = await s.run();
  assert.ok(first.error instanceof StixgateError, String(first.error));
  assert.equal(first.error.code, 'STIXGATE_ERR_INPUT_TOO_MANY_BAD_ROWS');
  assert.match(first.error.message, /\(source feed\)$/);
  const kept = await s.indicators();
  assert.ok(
    kept > 0 && kept <= 3000 && kept % 500 === 0,
    `whole store transactions before the failure are kept (declared): ${kept}`,
  );
  assert.equal(await s.cursor(), undefined, 'the cursor did not move');
  const second = await s.run();
  assert.equal(second.error, undefined, String(second.error));
  assert.equal(await s.indicators(), 3200, 'no duplicates: the document read again converges');
  assert.equal(must(second.sum, 'second.sum').created, 3200 - kept);
  assert.match((await s.cursor()) ?? '', /v2/);
});

test('document sources, a truncated bundle: the whole objects before the cut stay, no cursor; the next run converges', async (t) => {
  const objects = Array.from({ length: 1500 }, (_, i) => indicator(i));
  const whole = `{"type":"bundle","id":"bundle--00000000-0000-4000-8000-000000000001","objects":[${objects.join(',')}]}`;
  const cut = whole.slice(0, whole.indexOf(must(objects[1200], 'objects[1200]')) + 40);
  const s = await scenario(t, 'stix_bundle', 'bundle.json', [
    [cut, '"c1"'],
    [whole, '"c2"'],
  ]);
  const first = await s.run();
  assert.ok(first.error instanceof StixgateError, String(first.error));
  assert.equal(first.error.reason, 'truncated');
  // store transactions already made stay (500 objects each); the batch being filled is dropped
  const kept = await s.indicators();
  assert.ok(kept > 0 && kept <= 1200 && kept % 500 === 0, `kept ${kept}`);
  assert.equal(await s.cursor(), undefined);
  const second = await s.run();
  assert.equal(second.error, undefined, String(second.error));
  assert.equal(await s.indicators(), 1500);
  assert.equal(must(second.sum, 'second.sum').created, 1500 - kept);
  assert.equal(must(second.sum, 'second.sum').unchanged, kept);
});
