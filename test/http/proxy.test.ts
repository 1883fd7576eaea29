import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { registry } from '../../integrations/index.js';
import { parseConfig } from '../../src/config/load.js';
import { createHttpClient } from '../../src/http/client.js';
import { createSourceComponent } from '../../src/pipeline/components.js';
import { createSinkComponent, closeSinkComponent } from '../../src/delivery/component.js';
import { enricherHttpPolicy, type CommonEnricherConfig } from '../../src/enrich/schema.js';
import type { HttpClient } from '../../src/http/types.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { MAPPINGS_DIR } from '../../src/paths.js';
import { startForwardProxy } from '../helpers/forward-proxy.js';

/** A loopback target recording each request's path and headers. */
async function startTarget() {
  const seen: { path: string; headers: IncomingHttpHeaders }[] = [];
  const server = createServer((req, res) => {
    seen.push({ path: req.url ?? '', headers: req.headers });
    res.setHeader('content-type', 'text/plain');
    res.end('198.51.100.9\n');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

const PROXY_ENV = ['HTTP_PROXY', 'HTTPS_PROXY', 'NO_PROXY', 'http_proxy', 'https_proxy', 'no_proxy'];

/** Runs `fn` with the given proxy variables in process.env, restoring the previous values after. */
async function withEnv(vars: Record<string, string>, fn: () => Promise<void>): Promise<void> {
  const saved = Object.fromEntries(PROXY_ENV.map((k) => [k, process.env[k]]));
  for (const k of PROXY_ENV) delete process.env[k];
  Object.assign(process.env, vars);
  try {
    await fn();
  } finally {
    for (const k of PROXY_ENV) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
  }
}

/** A source, a sink and an enricher configured against `base`, as the daemon builds them. */
function components(base: string, extra: Record<string, unknown> = {}) {
  const text = JSON.stringify({
    sources: {
      feed: { type: 'text_list', url: `${base}/list.txt`, allow_private: true, allow_insecure: true, ...extra },
    },
    sinks: {
      kv: {
        type: 'splunk_kv',
        url: base,
        auth: { bearer_token: 'tok' },
        app: 'search',
        collection: 'c',
        allow_insecure: true,
        ...extra,
      },
    },
    enrichers: { rd: { type: 'rdap', allow_private: true, allow_insecure: true, ...extra } },
  });
  const { config } = parseConfig(text, { file: join(process.cwd(), 't.yaml'), registry, env: {} });
  const dataDir = mkdtempSync(join(tmpdir(), 'stixgate-proxy-'));
  const o = { registry, logger: silentLogger(), configDir: process.cwd(), mappingsDir: MAPPINGS_DIR };
  const source = createSourceComponent('feed', config.sources.feed as never, o);
  const sink = createSinkComponent('kv', config.sinks.kv as never, { ...o, dataDir });
  const enricher = createHttpClient(enricherHttpPolicy(config.enrichers.rd as CommonEnricherConfig, process.cwd()), {
    component: 'enrich:rd',
  });
  return {
    source,
    sink,
    enricher,
    async close() {
      await source.http.close();
      await closeSinkComponent(sink);
      await enricher.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

async function get(http: HttpClient, url: string): Promise<string> {
  return (await http.request({ url })).text();
}

/** One source run, one sink request and one enricher request, each through its component's client. */
async function exercise(c: ReturnType<typeof components>, base: string): Promise<void> {
  for await (const page of c.source.source.pages({
    id: 'feed',
    logger: c.source.logger,
    http: c.source.http,
    signal: new AbortController().signal,
    now: Date.now(),
    full: true,
  })) {
    assert.equal(page.items.length, 1);
  }
  assert.equal(await get(c.sink.http, `${base}/sink`), '198.51.100.9\n');
  assert.equal(await get(c.enricher, `${base}/enrich`), '198.51.100.9\n');
}

test('HTTP_PROXY: every request of a source, a sink and an enricher goes through the proxy; NO_PROXY bypasses it', async () => {
  const target = await startTarget();
  const proxy = await startForwardProxy();
  try {
    await withEnv({ HTTP_PROXY: proxy.url }, async () => {
      const c = components(target.base);
      await exercise(c, target.base);
      await c.close();
    });
    assert.deepEqual(
      target.seen.map((s) => s.path),
      ['/list.txt', '/sink', '/enrich'],
    );
    assert.equal(proxy.hits.length, 3);
    assert.ok(proxy.hits.every((h) => h.kind === 'forward' && h.target === new URL(target.base).host));

    await withEnv({ HTTP_PROXY: proxy.url, NO_PROXY: '127.0.0.1' }, async () => {
      const c = components(target.base);
      await exercise(c, target.base);
      await c.close();
    });
    assert.equal(target.seen.length, 6);
    assert.equal(proxy.hits.length, 3, 'NO_PROXY=127.0.0.1 sends nothing through the proxy');
  } finally {
    await proxy.close();
    await target.close();
  }
});

test('per-integration proxy with credentials: CONNECT tunnels only, Proxy-Authorization reaches the proxy and never the target (N11)', async () => {
  const target = await startTarget();
  const proxy = await startForwardProxy();
  try {
    await withEnv({}, async () => {
      const c = components(target.base, { proxy: { url: proxy.url, username: 'svc', password: 'PROXY-SECRET' } });
      await exercise(c, target.base);
      // a caller-supplied Proxy-Authorization is dropped too
      await (
        await c.sink.http.request({
          url: `${target.base}/caller`,
          headers: { 'proxy-authorization': 'Basic CALLER-SECRET' },
        })
      ).text();
      await c.close();
    });
    assert.equal(target.seen.length, 4);
    // one tunnel per client (source, sink, enricher); the sink's second request may reuse its tunnel
    assert.ok(proxy.hits.length >= 3 && proxy.hits.length <= 4, `${proxy.hits.length} tunnels`);
    const expected = `Basic ${Buffer.from('svc:PROXY-SECRET').toString('base64')}`;
    for (const h of proxy.hits) {
      assert.equal(h.kind, 'connect');
      assert.equal(h.proxyAuthorization, expected);
    }
    for (const s of target.seen) {
      assert.equal(s.headers['proxy-authorization'], undefined, `${s.path} carried Proxy-Authorization`);
      assert.ok(!JSON.stringify(s.headers).includes('SECRET'));
    }
  } finally {
    await proxy.close();
    await target.close();
  }
});

test('proxy configuration errors name the key path; proxy.password is redacted as a secret', () => {
  const bad = JSON.stringify({
    sources: {
      a: { type: 'text_list', url: 'https://feeds.example.org/x', proxy: { url: 'socks5://127.0.0.1:1080' } },
      b: { type: 'text_list', url: 'https://feeds.example.org/x', proxy: { url: 'http://u:p@proxy.example:3128' } },
      c: { type: 'text_list', url: 'https://feeds.example.org/x', cert_file: 'client.pem' },
    },
  });
  assert.throws(
    () => parseConfig(bad, { file: 't.yaml', registry, env: {} }),
    (e: Error) => {
      assert.match(e.message, /sources\.a\.proxy\.url [^:]*: proxy URL must be http/);
      assert.match(e.message, /sources\.b\.proxy\.url [^:]*: put proxy credentials in proxy\.username/);
      assert.match(e.message, /sources\.c\.key_file [^:]*: cert_file and key_file go together/);
      return true;
    },
  );
  const ok = parseConfig(
    JSON.stringify({
      sinks: {
        kv: {
          type: 'splunk_kv',
          url: 'https://splunk.example:8089',
          auth: { bearer_token: 't' },
          app: 'a',
          collection: 'c',
          proxy: { url: 'http://proxy.example:3128', username: 'u', password: '${PROXY_PW}' },
        },
      },
    }),
    { file: 't.yaml', registry, env: { PROXY_PW: 'pw' } },
  );
  assert.ok(ok.secretPaths.has('sinks.kv.proxy.password'));
  assert.equal(
    (ok.config.sinks.kv as { allow_private: boolean }).allow_private,
    true,
    'sinks allow private destinations by default',
  );
});
