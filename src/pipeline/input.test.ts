import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, after } from 'node:test';
import { createHttpClient } from '../http/client.js';
import { openInput, parseInputCursor } from './input.js';
import type { HttpPolicy } from '../http/types.js';

const policy: HttpPolicy = {
  headersTimeoutMs: 5000,
  bodyTimeoutMs: 5000,
  totalTimeoutMs: 10000,
  maxBytes: 1 << 20,
  maxRedirects: 0,
  allowPrivate: true,
  allowInsecure: true,
  verifyTls: true,
  retry: { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1, maxRetryAfterMs: 1 },
};

async function drain(it: AsyncIterable<Buffer>): Promise<string> {
  const parts: Buffer[] = [];
  for await (const b of it) parts.push(b);
  return Buffer.concat(parts).toString();
}

let hits: { inm?: string; ims?: string }[] = [];
const server: Server = createServer((req, res) => {
  hits.push({ inm: req.headers['if-none-match'], ims: req.headers['if-modified-since'] });
  if (req.url === '/empty') {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end();
    return;
  }
  if (req.headers['if-none-match'] === '"v1"') {
    res.writeHead(304);
    res.end();
    return;
  }
  res.writeHead(200, { 'content-type': 'text/plain', etag: '"v1"', 'last-modified': 'Mon, 05 Jan 2026 10:00:00 GMT' });
  res.end('1.2.3.4\n');
});
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
const http = createHttpClient(policy, { component: 'input-test' });
after(async () => {
  await http.close();
  server.close();
});

test('HTTP: cursor carries ETag, Last-Modified and SHA-256; the next request is conditional and 304 is notModified', async () => {
  hits = [];
  const doc = await openInput(`${base}/list`, { http, maxBytes: 1000, name: 't' });
  assert.equal(doc.cursor, undefined, 'unknown before the end');
  assert.equal(await drain(doc.body), '1.2.3.4\n');
  const c = parseInputCursor(doc.cursor);
  assert.equal(c.etag, '"v1"');
  assert.equal(c.last_modified, 'Mon, 05 Jan 2026 10:00:00 GMT');
  assert.equal(c.sha256?.length, 64);
  const again = await openInput(`${base}/list`, { http, maxBytes: 1000, name: 't', cursor: doc.cursor });
  assert.equal(again.notModified, true);
  assert.equal(again.cursor, doc.cursor);
  assert.deepEqual(hits[1], { inm: '"v1"', ims: 'Mon, 05 Jan 2026 10:00:00 GMT' });
  const full = await openInput(`${base}/list`, { http, maxBytes: 1000, name: 't', cursor: doc.cursor, full: true });
  assert.equal(full.notModified, false);
  assert.deepEqual(hits[2], { inm: undefined, ims: undefined });
  await drain(full.body);
  assert.equal(full.sameContent, true);
});

test('HTTP: a 200 with a 0-byte body is "empty document"', async () => {
  const doc = await openInput(`${base}/empty`, { http, maxBytes: 1000, name: 't' });
  await assert.rejects(drain(doc.body), { code: 'STIXGATE_ERR_INPUT_EMPTY', message: /empty document/ });
  assert.equal(doc.cursor, undefined);
});

test('file: unchanged size and mtime is notModified; unsupported schemes are refused', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'stixgate-input-'));
  const f = join(dir, 'a.txt');
  writeFileSync(f, 'x\n');
  const doc = await openInput(f, { maxBytes: 100, name: 't' });
  assert.equal(await drain(doc.body), 'x\n');
  const again = await openInput(`file://${f}`, { maxBytes: 100, name: 't', cursor: doc.cursor });
  assert.equal(again.notModified, true);
  await assert.rejects(openInput('ftp://example.org/x', { maxBytes: 100, name: 't' }), {
    code: 'STIXGATE_ERR_CONFIG_INVALID',
  });
  await assert.rejects(openInput(join(dir, 'missing.txt'), { maxBytes: 100, name: 't' }), {
    code: 'STIXGATE_ERR_INPUT_PARSE',
    reason: 'unreadable',
  });
});
