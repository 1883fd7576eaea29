import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../helpers/corpus.js';
import { must } from '../helpers/must.js';

test('the default configuration starts and becomes ready without internet, and SIGTERM exits 0 (time to ready: W11 in npm run bench)', {
  timeout: 300_000,
}, async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'stixgate-start-'));
  const t0 = Date.now();
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      join(PROJECT_ROOT, 'src', 'cli.ts'),
      'run',
      '--config',
      join(PROJECT_ROOT, 'config', 'stixgate.yaml'),
      '--data-dir',
      dataDir,
      '--port',
      '0',
    ],
    {
      cwd: PROJECT_ROOT,
      env: { ...process.env, STIXGATE_LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  try {
    const address = await new Promise<string>((resolve, reject) => {
      const timer = setInterval(() => {
        const m = /"address":"(http:\/\/[^"]+)"/.exec(out);
        if (m) {
          clearInterval(timer);
          resolve(must(m[1], 'm[1]'));
        } else if (Date.now() - t0 > 90_000) {
          clearInterval(timer);
          reject(new Error(`no listening line in 90 s:\n${out}`));
        }
      }, 50);
    });
    for (;;) {
      const r = await fetch(`${address}/readyz`).catch(() => undefined);
      if (r?.status === 200) break;
      assert.ok(Date.now() - t0 < 90_000, `not ready after 90 s:\n${out}`);
      await new Promise((r2) => setTimeout(r2, 100));
    }
    // every log line is JSON
    for (const line of out.trim().split('\n')) assert.doesNotThrow(() => JSON.parse(line), line);
  } finally {
    child.kill('SIGTERM');
  }
  assert.equal(await exited, 0, out);
});
