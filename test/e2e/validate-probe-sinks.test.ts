import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/daemon-proc.js';
import { QradarSimulator } from '../../integrations/qradar/simulator.js';

const cli = runCli;

test("validate --probe names the QRadar endpoints a token's user role may not call, and writes nothing", {
  timeout: 300_000,
}, async () => {
  const sim = new QradarSimulator({
    tokens: ['full-token', 'narrow-token'],
    access: { 'narrow-token': { denied: ['PATCH /reference_data_collections/set_entries'] } },
  });
  const { base } = await sim.start();
  try {
    const dir = mkdtempSync(join(tmpdir(), 'stixgate-probe-'));
    const sink = (id: string, token: string) =>
      `  ${id}:\n    type: qradar\n    url: ${base}\n    token: ${token}\n    allow_insecure: true\n`;
    writeFileSync(join(dir, 'c.yaml'), `sinks:\n${sink('full', 'full-token')}${sink('narrow', 'narrow-token')}`);
    const r = await cli(['validate', '--probe', '-c', join(dir, 'c.yaml')]);
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /^ {2}sink full: ok QRadar .*; the token may call all 7 endpoints the sink uses$/m);
    assert.match(
      r.stdout,
      /^ {2}sink narrow: FAILED .*may not call PATCH \/reference_data_collections\/set_entries \(/m,
    );
    assert.ok(!r.stdout.includes('full-token') && !r.stdout.includes('narrow-token'), 'no token printed');
    assert.ok(
      sim.requests.every((q) => q.method === 'GET'),
      'the probe only reads',
    );
  } finally {
    await sim.close();
  }
});
