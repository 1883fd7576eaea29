import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pidNamespaceUnavailable, startDaemon, type DaemonProc } from '../helpers/daemon-proc.js';

const READY = /"msg":"ready"/;
const unavailable = pidNamespaceUnavailable();

/**
 * Issue 18: the lock stored a pid and was "held" while any process with that pid lived. In a
 * container the daemon is pid 1, so after kill -9 the restarted daemon (pid 1 again) took the
 * stale lock for a live one and exited 3 forever. The lock is now the kernel's: it dies with
 * its holder, whatever the pid.
 */
test('D7/P5: a daemon that is pid 1 of its pid namespace starts again after kill -9; a second daemon is still refused', {
  skip: unavailable && `skipped: ${unavailable}`,
  timeout: 300_000,
}, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'stixgate-restart-'));
  const data = join(dir, 'data');
  const cfg = join(dir, 'stixgate.yaml');
  writeFileSync(cfg, `data_dir: ${data}\n`);
  const args = ['--config', cfg, '--port', '0'];
  const started: DaemonProc[] = [];
  const start = (pidNamespace: boolean) => {
    const d = startDaemon(args, { pidNamespace });
    started.push(d);
    return d;
  };
  try {
    const first = start(true);
    await first.waitFor(READY);
    first.child.kill('SIGKILL'); // unshare dies; --kill-child sends SIGKILL to the daemon
    assert.equal((await first.exited).signal, 'SIGKILL');

    const second = start(true);
    await second.waitFor(READY);
    const owner = JSON.parse(readFileSync(join(data, 'stixgate.lock.owner'), 'utf8')) as { pid: number };
    assert.equal(owner.pid, 1, 'the daemon runs as pid 1 of its namespace');
    // the lock is held across pid namespaces: a daemon outside is refused, naming the holder
    const third = start(false);
    const { code } = await third.exited;
    assert.equal(code, 3, third.output());
    assert.match(third.output(), new RegExp(`data directory ${data} is in use by another process \\(pid 1 on host`));
  } finally {
    for (const d of started) d.child.kill('SIGKILL');
    await Promise.all(started.map((d) => d.exited));
    rmSync(dir, { recursive: true, force: true });
  }
});
