import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDaemon } from '../helpers/daemon-proc.js';
import { openEmbeddedStore } from '../../src/store/embedded/index.js';
import { cursorName } from '../../src/pipeline/runner.js';
import { must } from '../helpers/must.js';

/** Every stored indicator pattern and the source's cursor, read after the daemon exited. */
async function storeState(dataDir: string): Promise<{ patterns: string[]; cursor?: string }> {
  const store = await openEmbeddedStore({ dataDir, readonly: true });
  try {
    const page = await store.changes(0, 1000);
    const patterns = page.changes
      .map((c) => (c.object as { pattern?: string }).pattern)
      .filter((p): p is string => !!p)
      .sort();
    return { patterns, cursor: await store.getCursor(cursorName('slow')) };
  } finally {
    await store.close();
  }
}

/**
 * FAULTS P4 and issue 18: SIGTERM while a feed download is stalled mid-body. The daemon waits
 * for in-flight work only within `shutdown_timeout_secs`, then aborts it: the half-read document
 * commits nothing (neither objects nor cursor), the store closes cleanly and the process exits 0
 * by itself (the test's own timeout is the only clock; no duration is asserted).
 */
test('P4: SIGTERM with a stalled feed download in flight aborts it within the grace, commits nothing of it, exits 0', {
  timeout: 300_000,
}, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'stixgate-shutdown-'));
  const data = join(dir, 'data');
  let stalled: ServerResponse | undefined;
  let requests = 0;
  let stalledRequest!: () => void;
  const stalledSeen = new Promise<void>((r) => (stalledRequest = r));
  const feed = createServer((_req, res) => {
    requests++;
    if (requests === 1) {
      res.writeHead(200, { 'content-type': 'text/plain', etag: '"v1"' });
      res.end('198.51.100.1\n198.51.100.2\n');
      return;
    }
    // the next version: headers and the first lines, then nothing more (the connection stays open)
    res.writeHead(200, { 'content-type': 'text/plain', etag: '"v2"' });
    res.write('198.51.100.3\n198.51.100.4\n');
    stalled = res;
    stalledRequest();
  });
  await new Promise<void>((r) => feed.listen(0, '127.0.0.1', r));
  const cfg = join(dir, 'stixgate.yaml');
  writeFileSync(
    cfg,
    `data_dir: ${data}
shutdown_timeout_secs: 1
sources:
  slow:
    type: text_list
    url: http://127.0.0.1:${(feed.address() as AddressInfo).port}/list.txt
    allow_private: true
    allow_insecure: true
    interval_secs: 3600
    timeout_secs: 600
`,
  );
  const args = ['--config', cfg, '--port', '0'];
  try {
    // first start: the whole feed is stored with its cursor; SIGTERM when idle exits 0
    const first = startDaemon(args);
    await first.waitFor(/"msg":"run finished"/);
    first.child.kill('SIGTERM');
    assert.deepEqual(await first.exited, { code: 0, signal: null }, first.output());
    const before = await storeState(data);
    assert.deepEqual(before.patterns, ["[ipv4-addr:value = '198.51.100.1']", "[ipv4-addr:value = '198.51.100.2']"]);
    assert.ok(before.cursor, 'the complete run committed its cursor');

    // second start: the download stalls mid-body; SIGTERM aborts it after the 1 s grace
    const second = startDaemon(args);
    await stalledSeen;
    second.child.kill('SIGTERM');
    assert.deepEqual(await second.exited, { code: 0, signal: null }, second.output());
    const out = second.output();
    assert.match(out, /"msg":"shutting down"/);
    assert.match(out, /"jobs":\["slow"\].*"msg":"shutdown grace of 1 s over; in-flight jobs aborted"/);
    assert.match(out, /"msg":"stopped"/);
    const req = must(stalled, 'the stalled download request');
    assert.equal(
      req.destroyed || req.closed || req.socket === null || req.socket.destroyed,
      true,
      'the download connection was closed',
    );
    // nothing of the aborted document: the objects and the cursor are those of the first run
    assert.deepEqual(await storeState(data), before);
  } finally {
    stalled?.destroy();
    feed.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
