import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Daemon } from '../../src/daemon.js';
import { registry } from '../../integrations/index.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { must } from '../helpers/must.js';
import { untilValue } from '../helpers/until.js';

async function listen(
  handler: Parameters<typeof createServer>[1],
): Promise<{ server: Server; base: string; hits: () => number }> {
  let hits = 0;
  const server = createServer((req, res) => {
    hits++;
    must(handler, 'handler')(req, res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, hits: () => hits };
}

const LIST =
  '# test feed\n198.51.100.23\n203.0.113.0/24\nhxxp://bad.example[.]net/x.exe\nnot-an-indicator!!\nevil.example.org\n';

test('C10/N2 daemon: polls feeds, serves lookups, re-polls without writes, survives dead feeds and bad reloads', async () => {
  const feed = await listen((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain', etag: '"v1"' });
    res.end(LIST);
  });
  const dead = await listen(() => undefined);
  const deadBase = dead.base;
  dead.server.close();
  const dir = mkdtempSync(join(tmpdir(), 'stixgate-daemon-'));
  const listFile = join(dir, 'local.txt');
  writeFileSync(listFile, '192.0.2.77\n');
  const config = (extra = '') => `data_dir: ${join(dir, 'data')}
server:
  anonymous_lookup: true
  metrics_public: true
sources:
  feed1:
    type: text_list
    url: ${feed.base}/list.txt
    allow_private: true
    allow_insecure: true
    interval_secs: 3600
    tlp: clear
    labels: [test-feed]
  local:
    type: text_list
    url: file://${listFile}
    interval_secs: 3600
    tlp: clear
  dead:
    type: text_list
    url: ${deadBase}/gone.txt
    allow_private: true
    allow_insecure: true
    interval_secs: 3600
    retry: { max_attempts: 1 }
${extra}`;
  const cfgPath = join(dir, 'stixgate.yaml');
  writeFileSync(cfgPath, config());
  const daemon = new Daemon({ configPath: cfgPath, registry, logger: silentLogger(), port: 0 });
  await daemon.start();
  try {
    const base = must(daemon.address, 'daemon.address');
    assert.equal((await fetch(`${base}/healthz`)).status, 200);
    assert.equal((await fetch(`${base}/readyz`)).status, 200);

    const hit = await untilValue('a lookup matches the feed CIDR', async () => {
      const r = (await (await fetch(`${base}/api/v1/lookup?value=203.0.113.9`)).json()) as {
        matched: boolean;
        indicators: { sources: string[]; match: string; labels: string[] }[];
      };
      return r.matched ? r : undefined;
    });
    assert.equal(must(hit.indicators[0], 'hit.indicators[0]').match, 'cidr');
    assert.deepEqual(must(hit.indicators[0], 'hit.indicators[0]').sources, ['feed1']);
    await untilValue(
      'the second feed is served',
      async () =>
        ((await (await fetch(`${base}/api/v1/lookup?value=192.0.2.77`)).json()) as { matched: boolean }).matched ||
        undefined,
    );

    const batch = (await (
      await fetch(`${base}/api/v1/lookup`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ values: ['http://bad.example.net/x.exe', 'sub.evil.example.org', '198.51.100.24'] }),
      })
    ).json()) as { results: { matched: boolean }[] };
    assert.deepEqual(
      batch.results.map((r) => r.matched),
      [true, true, false],
    );

    const metrics = await (await fetch(`${base}/metrics`)).text();
    assert.match(metrics, /stixgate_source_records_received_total\{source="feed1"\} 5/);
    assert.match(metrics, /stixgate_source_records_rejected_total\{source="feed1",reason="[a-z_]+"\} 1/);
    assert.match(metrics, /stixgate_store_objects_written_total\{source="feed1",outcome="created"\} 4/);
    await untilValue('the dead feed counts an error', async () =>
      /stixgate_job_errors_total\{job_name="dead",reason="[a-z_0-9]+"\} [1-9]/.test(
        await (await fetch(`${base}/metrics`)).text(),
      )
        ? true
        : undefined,
    );
    assert.doesNotMatch(metrics, /198\.51\.100\.23|evil\.example/, 'indicator values never appear in metrics');

    // a second poll of the unchanged feed writes nothing
    const headBefore = /stixgate_store_changelog_head (\d+)/.exec(metrics);
    const polls = feed.hits();
    await daemon.runNow('feed1');
    assert.equal(feed.hits(), polls + 1);
    const after = await (await fetch(`${base}/metrics`)).text();
    assert.match(after, /stixgate_store_objects_written_total\{source="feed1",outcome="created"\} 4\n/);
    assert.doesNotMatch(after, /outcome="updated"/);
    if (headBefore) assert.equal(/stixgate_store_changelog_head (\d+)/.exec(after)?.[1], headBefore[1]);

    // an invalid configuration on reload is refused; the daemon keeps serving the old one
    writeFileSync(cfgPath, config('bogus_key: 1\n'));
    assert.equal(await daemon.reload(), false);
    assert.equal((await fetch(`${base}/readyz`)).status, 200);
    writeFileSync(cfgPath, config());
    assert.equal(await daemon.reload(), true);
  } finally {
    await daemon.stop();
    feed.server.close();
  }
});
