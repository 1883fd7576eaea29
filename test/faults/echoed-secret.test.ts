import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { inspect } from 'node:util';
import { runPages } from '../helpers/misp-source.js';

const KEY = 'canary-key-7f3a9c1e5b2d4806';

/**
 * FAULTS X2: an upstream that echoes our credential in its error body (MISP did, in 403 and
 * 500 answers) must not carry it into the error a source throws, which the runner logs.
 */
test('X2: upstream 403 and 500 bodies that echo the API key never bring it into the error or its cause', async () => {
  for (const status of [403, 500]) {
    const server = createServer((req, res) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          name: `Authentication failed for key ${req.headers.authorization}`,
          message: `key ${req.headers.authorization} refused`,
          url: req.url,
        }),
      );
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      await assert.rejects(runPages('misp_api', { url, api_key: KEY, retry: { max_attempts: 1 } }), (e: Error) => {
        assert.match(e.message, new RegExp(`status ${status}`));
        assert.ok(
          !inspect(e, { depth: 10 }).includes(KEY),
          `status ${status}: the key reached the error: ${inspect(e, { depth: 10 })}`,
        );
        return true;
      });
    } finally {
      server.close();
    }
  }
});
