import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { StixgateError } from '../../src/core/errors.js';
import { SplunkRest } from './client.js';
import { KvClient } from './kv.js';
import { runContext } from './sink-test-kit.js';

/**
 * Splunk's answers are parsed as untrusted JSON (safeJsonParse): a body that is not JSON, or one
 * that gives a key twice, is a protocol error naming the sink and the collection, never a bare
 * SyntaxError and never the last of two values picked silently.
 */
async function answering(t: { after(fn: () => void): void }, body: string): Promise<string> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => server.close());
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

for (const [what, body, reason] of [
  ['a body that is not JSON', '<html>maintenance</html>', /invalid JSON/],
  ['a key given twice', '[{"_key":"a","_key":"b"}]', /duplicate key/],
] as const) {
  test(`a KV key listing answered with ${what} is a protocol error naming the collection`, async (t) => {
    const base = await answering(t, body);
    const kv = new KvClient(new SplunkRest(base, 'Bearer x', 'splunk_kv app/col'), 'nobody', 'app', 1000);
    await assert.rejects(kv.count(runContext(t), 'col', 10), (e: unknown) => {
      assert.ok(e instanceof StixgateError, `a StixgateError, got ${String(e)}`);
      assert.match(e.message, /splunk_kv app\/col/);
      assert.match(e.message, /collection col/);
      assert.match(e.message, reason);
      return true;
    });
  });
}
