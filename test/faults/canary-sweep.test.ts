import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { Daemon } from '../../src/daemon.js';
import { registry } from '../../integrations/index.js';
import { hashApiKey } from '../../src/server/index.js';
import { QradarSimulator } from '../../integrations/qradar/simulator.js';
import { XsoarSimulator } from '../../integrations/xsoar/simulator.js';
import { until as pollUntil } from '../helpers/until.js';

/**
 * FAULTS X1, a sweep: every secret slot of one daemon (a feed API key, two sink credentials, a
 * reader API key, an unknown key presented by a client, a secret in a refused reload) holds its
 * own random canary; the daemon goes through the error paths (a feed answering 403 with the key
 * echoed, a sink refusing its key and pausing, failed lookups, a refused reload). Afterwards no
 * canary appears in any log line (debug level), HTTP response (bodies and headers, /metrics,
 * /readyz), file under the data directory (store, dead letters, daemon.json) or document a sink
 * received.
 */
const until = (what: string, fn: () => boolean | Promise<boolean>, ms = 30_000) => pollUntil(what, fn, ms);

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

test('X1: canary secrets in every secret slot never reach logs, HTTP responses, metrics, data files or sink documents', {
  timeout: 120_000,
}, async (t) => {
  const c = (slot: string) => `cnry${randomBytes(8).toString('hex')}${slot}`;
  const CANARY = {
    otx: c('otx'),
    qradar: c('qradar'),
    xsoar: c('xsoar'),
    reader: c('reader'),
    unknown: c('unknown'),
    reload: c('reload'),
  };

  // a feed that answers 403 and echoes the key it was sent (as MISP and OTX error pages do)
  const otx = createServer((req, res) => {
    res.writeHead(403, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ detail: `invalid key ${String(req.headers['x-otx-api-key'])}` }));
  });
  await new Promise<void>((r) => otx.listen(0, '127.0.0.1', r));
  const qradar = new QradarSimulator({ tokens: [CANARY.qradar] });
  const xsoar = new XsoarSimulator({ keys: [{ key: 'another-key', id: 1, type: 'standard' }] });
  const bases = {
    otx: `http://127.0.0.1:${(otx.address() as AddressInfo).port}/`,
    qradar: (await qradar.start()).base,
    xsoar: (await xsoar.start()).base,
  };
  const dir = mkdtempSync(join(tmpdir(), 'stixgate-canary-'));
  t.after(async () => {
    otx.close();
    await Promise.all([qradar.close(), xsoar.close()]);
    rmSync(dir, { recursive: true, force: true });
  });
  writeFileSync(join(dir, 'list.txt'), '198.51.100.7\n198.51.100.8\n');
  const configFile = join(dir, 'stixgate.yaml');
  const loop =
    'allow_private: true\n    allow_insecure: true\n    interval_secs: 1\n    retry: { max_attempts: 1, base_delay_secs: 0.1, max_delay_secs: 0.1 }';
  const config = (extra = '') => `data_dir: ${join(dir, 'data')}
correlation: { enabled: false }
server:
  port: 0
  metrics_public: true
  api_keys:
    reader: { hash: "${hashApiKey(CANARY.reader)}", scopes: [lookup] }
sources:
  list:
    type: text_list
    url: file://${join(dir, 'list.txt')}
    interval_secs: 3600
    run_on_start: false
    tlp: clear
  otx:
    type: otx
    url: ${bases.otx}
    api_key: \${OTX_KEY}
    interval_secs: 3600
    run_on_start: false
    ${loop.replace('interval_secs: 1\n    ', '')}
sinks:
  qradar:
    type: qradar
    url: ${bases.qradar}
    token: \${QRADAR_TOKEN}
    max_tlp: clear
    ${loop}
  xsoar:
    type: xsoar
    url: ${bases.xsoar}
    api_key: \${XSOAR_KEY}
    max_tlp: clear
    ${loop}
${extra}`;
  writeFileSync(configFile, config(), { mode: 0o600 });
  const lines: string[] = [];
  const logger = pino(
    { level: 'debug' },
    new Writable({
      write(chunk, _e, cb) {
        lines.push(String(chunk));
        cb();
      },
    }),
  );
  const env = {
    OTX_KEY: CANARY.otx,
    QRADAR_TOKEN: CANARY.qradar,
    XSOAR_KEY: CANARY.xsoar,
    RELOAD_SECRET: CANARY.reload,
  };
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  t.after(() => {
    for (const [k, v] of Object.entries(saved))
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
  });
  const daemon = new Daemon({ configPath: configFile, registry, logger, port: 0 });
  await daemon.start();
  t.after(() => daemon.stop());
  const responses: string[] = [];
  const call = async (path: string, key?: string) => {
    const r = await fetch(`${daemon.address}${path}`, { headers: key ? { authorization: `Bearer ${key}` } : {} });
    const text = await r.text();
    responses.push(`${r.status} ${JSON.stringify([...r.headers])} ${text}`);
    return { status: r.status, text };
  };

  // the error paths
  await daemon.runNow('list');
  await assert.rejects(daemon.runNow('otx'));
  await until('qradar holds the list', () => qradar.values('stixgate - IPv4').length === 2);
  await until('xsoar refused the key', () => lines.some((l) => /"sink":"xsoar"/.test(l) && /paused|401|auth/.test(l)));
  assert.equal((await call('/api/v1/lookup?value=198.51.100.7', CANARY.reader)).status, 200);
  assert.equal((await call('/api/v1/lookup?value=198.51.100.7', CANARY.unknown)).status, 401);
  assert.equal((await call('/metrics')).status, 200);
  await call('/readyz');
  // a reload whose new configuration is refused (a secret at an unknown key, then a bad value)
  writeFileSync(
    configFile,
    config(`  broken:\n    type: xsoar\n    url: not-a-url\n    api_key: \${RELOAD_SECRET}\n`),
    { mode: 0o600 },
  );
  assert.equal(await daemon.reload(), false);
  await call('/metrics');

  // the sweep
  const places: [string, string][] = [
    ['log', lines.join('')],
    ['http', responses.join('\n')],
    ['sink documents', JSON.stringify({ sets: qradar.values('stixgate - IPv4'), xsoar: xsoar.indicators() })],
    ...filesUnder(join(dir, 'data')).map((f): [string, string] => [f, readFileSync(f).toString('latin1')]),
  ];
  assert.ok(places.length > 4, 'the data directory holds files to sweep');
  assert.ok(lines.length > 10, 'the daemon logged');
  // the sweep sees what it should: the paths ran and the places hold data
  assert.ok(
    lines.some((l) => /"source":"otx"|"job":"otx"/.test(l) && /403/.test(l)),
    'the feed error was logged',
  );
  assert.ok(
    lines.some((l) => /refused/.test(l) && /reload/.test(l)),
    'the refused reload was logged',
  );
  assert.ok(
    places.some(([w, text]) => w !== 'log' && w !== 'http' && text.includes('198.51.100.7')),
    'the data files hold the stored values',
  );
  for (const [slot, canary] of Object.entries(CANARY)) {
    for (const [where, text] of places) assert.ok(!text.includes(canary), `the ${slot} canary appears in ${where}`);
  }
});
