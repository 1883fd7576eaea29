import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../helpers/corpus.js';
import { QradarSimulator } from '../../integrations/qradar/simulator.js';

const CLI = join(PROJECT_ROOT, 'src', 'cli.ts');

function cli(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], { cwd: PROJECT_ROOT });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (status) => resolve({ status, stdout, stderr }));
  });
}

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
