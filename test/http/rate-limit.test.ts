import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { registry } from '../../integrations/index.js';
import { parseConfig } from '../../src/config/load.js';
import { createSourceComponent } from '../../src/pipeline/components.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { MAPPINGS_DIR } from '../../src/paths.js';

test('every source accepts rate_limit: requests of one source are spaced by 60/max_per_minute seconds', async () => {
  const times: number[] = [];
  const server = createServer((_req, res) => {
    times.push(performance.now());
    res.end('198.51.100.9\n');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/list.txt`;
  try {
    const entry = { type: 'text_list', url, allow_private: true, allow_insecure: true, rate_limit: { max_per_minute: 300 } };
    const { config } = parseConfig(JSON.stringify({ sources: { f: entry } }), { file: 't.yaml', registry });
    const comp = createSourceComponent('f', config.sources.f as never, { registry, logger: silentLogger(), configDir: '.', mappingsDir: MAPPINGS_DIR });
    for (let run = 0; run < 4; run++) {
      for await (const _page of comp.source.pages({ id: 'f', logger: comp.logger, http: comp.http, signal: new AbortController().signal, now: Date.now(), full: true })) {
        /* drain */
      }
    }
    assert.equal(times.length, 4);
    // the first request also opens the connection, which delays its arrival: the gaps after it are
    // measured on the kept-alive connection, and the whole span covers all three slots
    for (let i = 2; i < times.length; i++) assert.ok(times[i] - times[i - 1] >= 190, `request ${i} came ${Math.round(times[i] - times[i - 1])} ms after the previous one (limit 200 ms)`);
    assert.ok(times[3] - times[0] >= 3 * 200 - 40, `4 requests spanned ${Math.round(times[3] - times[0])} ms (at least 3 × 200 ms expected)`);
    await comp.http.close();
  } finally {
    server.close();
  }
});

test('without rate_limit the same requests are not spaced', async () => {
  const { config } = parseConfig(JSON.stringify({ sources: { f: { type: 'text_list', url: 'https://feeds.example.org/x' } } }), { file: 't.yaml', registry });
  assert.equal((config.sources.f as { rate_limit?: unknown }).rate_limit, undefined);
});
