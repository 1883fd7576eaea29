/**
 * The daemon serves its configured firewall lists: a feed's values reach /edl once the source
 * ran, a device authenticates with HTTP Basic, and a conditional GET is a 304.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Daemon } from '../../src/daemon.js';
import { registry } from '../../integrations/index.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { hashApiKey } from '../../src/server/index.js';
import { must } from '../helpers/must.js';
import { untilValue } from '../helpers/until.js';

const KEY = 'k-pa-fw01-5e6f7a8b9c0d1e2f3a4b';

test("daemon: a feed's values reach the PAN-OS list; Basic credentials; 304 for the copy held", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'stixgate-edl-daemon-'));
  const listFile = join(dir, 'feed.txt');
  writeFileSync(listFile, '198.51.100.23\n203.0.113.0/24\nhttp://bad.example.net/x.exe\nevil.example.org\n');
  const cfgPath = join(dir, 'stixgate.yaml');
  writeFileSync(
    cfgPath,
    `data_dir: ${join(dir, 'data')}
server:
  rate_limit: { enabled: false }
  api_keys:
    pa-fw01: { hash: "${hashApiKey(KEY)}", scopes: [edl], max_tlp: green }
edl:
  follow_interval_ms: 50
  basic_auth: true
  lists:
    block:
      format: paloalto
      max_tlp: green
sources:
  feed:
    type: text_list
    url: file://${listFile}
    interval_secs: 3600
    tlp: green
`,
  );
  const daemon = new Daemon({ configPath: cfgPath, registry, logger: silentLogger(), port: 0 });
  await daemon.start();
  t.after(async () => {
    await daemon.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  const auth = { authorization: `Basic ${Buffer.from(`pa-fw01:${KEY}`).toString('base64')}` };
  const ip = await untilValue('the PAN-OS IP list holds the feed', async () => {
    const r = await fetch(`${daemon.address}/edl/block/ip`, { headers: auth });
    const text = await r.text();
    return r.status === 200 && text.length > 0
      ? { text, etag: must(r.headers.get('etag'), "r.headers.get('etag')") }
      : undefined;
  });
  assert.equal(ip.text, '198.51.100.23\n203.0.113.0/24\n');
  const url = await fetch(`${daemon.address}/edl/block/url`, { headers: auth });
  assert.equal(await url.text(), 'bad.example.net/x.exe\n');
  const again = await fetch(`${daemon.address}/edl/block/ip`, { headers: { ...auth, 'if-none-match': ip.etag } });
  assert.equal(again.status, 304);
  assert.equal((await fetch(`${daemon.address}/edl/block/ip`)).status, 401);

  // a reload with a publish allowlist: the lists are rebuilt against it
  writeFileSync(cfgPath, `${readFileSync(cfgPath, 'utf8')}publish_allowlist: ["198.51.100.23"]\n`);
  assert.equal(await daemon.reload(), true);
  const rebuilt = await untilValue('the IP list is rebuilt after the reload', async () => {
    const r = await fetch(`${daemon.address}/edl/block/ip`, { headers: auth });
    const text = await r.text();
    return r.status === 200 && text !== ip.text ? text : undefined;
  });
  assert.equal(rebuilt, '203.0.113.0/24\n');
});
