import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, startDaemon } from '../helpers/daemon-proc.js';
import { until } from '../helpers/until.js';
import { splunkRig, writeRigConfig } from '../helpers/splunk-rig.js';

/**
 * The CLI against a daemon running in a child process: while the daemon holds the store, `ingest`,
 * `stats`, `lookup` and `push --full` (to a Splunk simulator) go through the admin and ingest API
 * (the store would answer STIXGATE_ERR_STORE_LOCKED); once it has stopped, the same commands
 * open the store and print the same output.
 *
 * `export` reads the daemon's search API (`search` scope) and is compared the same way.
 */
const KEY = 'k-cli-ops-3f2e1d0c9b8a7f6e5d4c';

const cli = runCli;

test('lookup, stats, push --full, ingest and export through a running daemon, then the same output from the store', {
  timeout: 600_000,
}, async (t) => {
  const { splunk, base, dir } = await splunkRig(t, 'stixgate-cli-remote-');
  const data = join(dir, 'data');
  const cfg = writeRigConfig(dir, base, {
    top: ['lookup: { follow_interval_ms: 100 }'],
    keys: { ops: { key: KEY, scopes: ['admin', 'lookup', 'ingest', 'search'], maxTlp: 'red' } },
  });
  writeFileSync(
    join(dir, 'a.txt'),
    '198.51.100.11\n198.51.100.12\n999.1.1.1\n198.51.100.13\n198.51.100.14\n198.51.100.15\n',
  );
  writeFileSync(
    join(dir, 'b.txt'),
    '198.51.100.21\n198.51.100.22\n999.2.2.2\n198.51.100.23\n198.51.100.24\n198.51.100.25\n',
  );
  const keyFile = join(dir, 'key');
  writeFileSync(keyFile, `${KEY}\n`, { mode: 0o600 });
  const env = { STIXGATE_API_KEY: KEY };
  const base0 = ['-c', cfg];

  const daemon = startDaemon(['-c', cfg]);
  let stopped = false;
  t.after(async () => {
    if (!stopped) {
      daemon.child.kill('SIGTERM');
      await daemon.exited;
    }
  });
  await daemon.waitFor(/"msg":"ready"/);
  const url = (JSON.parse(readFileSync(join(data, 'daemon.json'), 'utf8')) as { url: string }).url;

  // without a key the daemon refuses, and the CLI says how to give one
  const refused = await cli(['stats', ...base0]);
  assert.equal(refused.status, 3, refused.stderr);
  assert.match(
    refused.stderr,
    /refused GET \/api\/v1\/admin\/stats: 401 missing or invalid API key \(give a key: --api-key-file, \$STIXGATE_API_KEY or cli\.api_key\)/,
  );

  // ingest: the file is posted; counts as the local command prints them, rejections on stderr
  const ingested = await cli(
    ['ingest', join(dir, 'a.txt'), '--from', 'text_list', '-o', 'tlp=clear', '-o', 'max_bad_ratio=0.5', ...base0],
    env,
  );
  assert.equal(ingested.status, 0, ingested.stderr);
  const remoteIngest = JSON.parse(ingested.stdout);
  assert.equal(remoteIngest.created, 5);
  assert.deepEqual(remoteIngest.rejectedByReason, { invalid_ipv4: 1 });
  assert.match(
    ingested.stderr,
    /^rejected: invalid IPv4 address: "999\.1\.1\.1" \[invalid_ipv4\] \(source cli_text_list, line 3\)$/m,
  );

  // the key from a file works as well as from the environment
  const stats = await cli(['stats', ...base0, '--api-key-file', keyFile]);
  assert.equal(stats.status, 0, stats.stderr);
  assert.equal(JSON.parse(stats.stdout).byType.indicator, 5);

  // lookups answer once the daemon's index has followed the change log
  await until('the daemon index serves the ingested value', async () => {
    const r = await fetch(`${url}/api/v1/lookup?value=198.51.100.15`, { headers: { authorization: `Bearer ${KEY}` } });
    return ((await r.json()) as { matched: boolean }).matched;
  });
  const lookup = await cli(['lookup', '198.51.100.11', '198.51.100.15', '203.0.113.1', '--json', ...base0], env);
  assert.equal(lookup.status, 1, lookup.stderr);
  const lookupText = await cli(['lookup', '198.51.100.11', ...base0], env);
  assert.equal(lookupText.status, 0, lookupText.stderr);
  assert.match(lookupText.stdout, /^198\.51\.100\.11\tMATCH indicator--[0-9a-f-]{36} score=\d+ tlp=clear via exact\n$/);

  // push --full through the daemon: the simulator receives every value
  const pushed = await cli(['push', 'kv', '--full', ...base0], env);
  assert.equal(pushed.status, 0, pushed.stderr);
  const remotePush = JSON.parse(pushed.stdout);
  assert.equal(remotePush.sink, 'kv');
  assert.equal(remotePush.upserted, 5);
  assert.equal(splunk.documents('search', 'stixgate_indicators').length, 5);
  const remoteStats = (await cli(['stats', ...base0], env)).stdout;
  const exported = await cli(['export', '--max-tlp', 'red', '--api-key-file', keyFile, ...base0]);
  assert.equal(exported.status, 0, exported.stderr);
  assert.equal(JSON.parse(exported.stdout).objects.length, 5);

  // the same commands once the daemon has stopped: the store is opened, the output is the same
  daemon.child.kill('SIGTERM');
  assert.equal((await daemon.exited).code, 0, daemon.output());
  stopped = true;
  assert.equal(existsSync(join(data, 'daemon.json')), false);
  // the same statistics; only the file size moves, as the daemon's close checkpoints the write-ahead log
  const sansSize = (text: string) => ({ ...JSON.parse(text), bytesOnDisk: undefined });
  const localStats = (await cli(['stats', ...base0])).stdout;
  assert.deepEqual(sansSize(localStats), sansSize(remoteStats), 'stats');
  assert.deepEqual(Object.keys(JSON.parse(localStats)), Object.keys(JSON.parse(remoteStats)));
  const localLookup = await cli(['lookup', '198.51.100.11', '198.51.100.15', '203.0.113.1', '--json', ...base0]);
  assert.equal(localLookup.stdout, lookup.stdout, 'lookup --json');
  const localExport = await cli(['export', '--max-tlp', 'red', ...base0]);
  assert.equal(localExport.stdout, exported.stdout, 'export');
  const localPush = await cli(['push', 'kv', '--full', ...base0]);
  assert.equal(localPush.stdout, pushed.stdout, 'push --full');
  const localIngest = await cli([
    'ingest',
    join(dir, 'b.txt'),
    '--from',
    'text_list',
    '-o',
    'tlp=clear',
    '-o',
    'max_bad_ratio=0.5',
    '--quiet',
    ...base0,
  ]);
  assert.equal(localIngest.stdout, ingested.stdout, 'ingest counts');
  assert.equal(localIngest.stderr.replace('999.2.2.2', '999.1.1.1'), ingested.stderr, 'ingest rejections');
  // --url asks a daemon even when the store could be opened: none runs now, and the CLI says so
  const gone = await cli(['stats', ...base0, '--url', url], env);
  assert.equal(gone.status, 3);
  assert.match(gone.stderr, /cannot be reached/);
});
