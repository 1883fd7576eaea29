import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { StixgateError } from '../../src/core/errors.js';
import type { SourceComponent } from '../../src/pipeline/components.js';
import { cursorName } from '../../src/pipeline/runner.js';
import { openEmbeddedStore } from '../../src/store/embedded/index.js';
import { componentPages, runComponent, settled, sourceComponent } from '../helpers/source-harness.js';

/**
 * Issue 18: a small document delivered with a chunk boundary at every byte gives the same result
 * each time, and a transfer cut at every byte fails cleanly (reason named, nothing stored, cursor
 * unchanged). The document mixes LF and CRLF, a comment, a refanged URL and a multi-byte character.
 */

const DOC = Buffer.from('# feed ü\r\n198.51.100.7\n203.0.113.0/25\r\nhxxps://bad.example[.]com/ä\n', 'utf8');
const NOW = Date.parse('2026-03-01T12:00:00Z');
const HEAD = `HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: ${DOC.length}\r\nConnection: close\r\n\r\n`;

/** Serves DOC once per connection: the body split at `split`, or cut after `cut` bytes. */
async function server(mode: { split?: number; cut?: number }): Promise<{ server: Server; url: string }> {
  const s = createServer((sock: Socket) => {
    sock.setNoDelay(true);
    sock.on('error', () => undefined);
    sock.once('data', () => {
      if (mode.cut !== undefined) {
        sock.write(Buffer.concat([Buffer.from(HEAD), DOC.subarray(0, mode.cut)]), () => sock.destroy());
        return;
      }
      sock.write(Buffer.concat([Buffer.from(HEAD), DOC.subarray(0, mode.split)]), () =>
        setImmediate(() => sock.end(DOC.subarray(mode.split))),
      );
    });
  });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return { server: s, url: `http://127.0.0.1:${(s.address() as AddressInfo).port}/list.txt` };
}

function component(url: string): SourceComponent {
  return sourceComponent('feed', {
    type: 'text_list',
    url,
    allow_private: true,
    allow_insecure: true,
    retry: { max_attempts: 1 },
  });
}

async function patterns(url: string): Promise<string[]> {
  const comp = component(url);
  const out: string[] = [];
  try {
    for await (const page of componentPages(comp, NOW, { full: true })) {
      for (const it of page.items) out.push(`${it.object.id} ${String(it.object.pattern)}`);
    }
  } finally {
    await comp.http.close();
  }
  return out.sort();
}

test('a chunk boundary at every byte of the body gives the same objects', async () => {
  const whole = await server({ split: DOC.length });
  const reference = await patterns(whole.url);
  whole.server.close();
  assert.equal(reference.length, 3);
  for (let split = 1; split < DOC.length; split++) {
    const s = await server({ split });
    try {
      assert.deepEqual(await patterns(s.url), reference, `split at byte ${split}`);
    } finally {
      s.server.close();
    }
  }
});

test('a transfer cut at every byte fails with reason reset: nothing stored, cursor unchanged', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'stixgate-cuts-'));
  const store = await openEmbeddedStore({ dataDir: join(dir, 'data') });
  try {
    for (let cut = 0; cut < DOC.length; cut++) {
      const s = await server({ cut });
      const comp = component(s.url);
      try {
        const e = (await settled(runComponent(comp, store, NOW, { allowRed: true }))).error;
        assert.ok(e instanceof StixgateError, `cut at byte ${cut}: ${String(e ?? 'no error')}`);
        assert.equal(e.reason, 'reset', `cut at byte ${cut}: ${e.message}`);
        assert.match(e.message, /^feed: GET /);
      } finally {
        await comp.http.close();
        s.server.close();
      }
    }
    assert.equal((await store.stats()).objects, 0);
    assert.equal(await store.getCursor(cursorName('feed')), undefined);
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
