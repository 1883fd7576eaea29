import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { registry } from '../../integrations/index.js';
import { parseConfig } from '../../src/config/load.js';
import { createSourceComponent } from '../../src/pipeline/components.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { MAPPINGS_DIR } from '../../src/paths.js';

/**
 * Lets pending I/O and zero-delay timers run for `n` event-loop turns (timers are faked: a timer
 * due later than the fake clock's time never fires here).
 */
async function turns(t: { mock: { timers: { tick(ms: number): void } } }, n = 100): Promise<void> {
  for (let i = 0; i < n; i++) {
    t.mock.timers.tick(0);
    await new Promise<void>((r) => setImmediate(r));
  }
}

/** Awaits `p` while letting zero-delay timers and I/O run. */
async function settle(t: Parameters<typeof turns>[0], p: Promise<void>): Promise<void> {
  let done = false;
  const watched = p.finally(() => {
    done = true;
  });
  while (!done) await turns(t, 1);
  await watched;
}

test('every source accepts rate_limit: requests of one source are spaced by 60/max_per_minute seconds (fake clock)', async (t) => {
  let hits = 0;
  const server = createServer((_req, res) => {
    hits++;
    res.end('198.51.100.9\n');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/list.txt`;
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000_000 });
  try {
    const entry = {
      type: 'text_list',
      url,
      allow_private: true,
      allow_insecure: true,
      rate_limit: { max_per_minute: 300 },
    };
    const { config } = parseConfig(JSON.stringify({ sources: { f: entry } }), { file: 't.yaml', registry });
    const comp = createSourceComponent('f', config.sources.f as never, {
      registry,
      logger: silentLogger(),
      configDir: '.',
      mappingsDir: MAPPINGS_DIR,
    });
    const run = async (): Promise<void> => {
      for await (const _page of comp.source.pages({
        id: 'f',
        logger: comp.logger,
        http: comp.http,
        signal: new AbortController().signal,
        now: Date.now(),
        full: true,
      })) {
        /* drain */
      }
    };
    const first = run();
    await settle(t, first);
    assert.equal(hits, 1);
    for (let n = 2; n <= 4; n++) {
      const next = run();
      await turns(t);
      assert.equal(hits, n - 1, `request ${n} was sent before its slot`);
      t.mock.timers.tick(199);
      await turns(t);
      assert.equal(hits, n - 1, `request ${n} was sent 199 ms after the previous one (limit 200 ms)`);
      t.mock.timers.tick(1);
      await settle(t, next);
      assert.equal(hits, n);
    }
    await comp.http.close();
  } finally {
    t.mock.timers.reset();
    server.close();
  }
});

test('without rate_limit the same requests are not spaced', async () => {
  const { config } = parseConfig(
    JSON.stringify({ sources: { f: { type: 'text_list', url: 'https://feeds.example.org/x' } } }),
    { file: 't.yaml', registry },
  );
  assert.equal((config.sources.f as { rate_limit?: unknown }).rate_limit, undefined);
});
