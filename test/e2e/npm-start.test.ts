import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../helpers/corpus.js';
import { anyExited, untilValue } from '../helpers/until.js';

test('the default configuration starts and becomes ready without internet, and SIGTERM exits 0 (time to ready: W11 in npm run bench)', {
  timeout: 300_000,
}, async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'stixgate-start-'));
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
    const gone = anyExited([child], () => out);
    const address = await untilValue('the listening line', () => /"address":"(http:\/\/[^"]+)"/.exec(out)?.[1], {
      ms: 120_000,
      gone,
    });
    await untilValue(
      '/readyz answers 200',
      async () => (await fetch(`${address}/readyz`)).status === 200 || undefined,
      {
        ms: 120_000,
        gone,
      },
    );
    // every log line is JSON
    for (const line of out.trim().split('\n')) assert.doesNotThrow(() => JSON.parse(line), line);
  } finally {
    child.kill('SIGTERM');
  }
  assert.equal(await exited, 0, out);
});
