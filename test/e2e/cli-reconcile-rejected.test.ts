import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSim, TOKEN } from '../../integrations/qradar/test-kit.js';
import { runCli } from '../helpers/daemon-proc.js';

/**
 * `stixgate reconcile SINK` exits 4 when the product rejected some repairs (README "Exit codes",
 * docs/reconcile.md): the QRadar simulator, strict like the product, refuses an IPv6 value in a
 * set of element type IP. The config routes IPv6 values into the IPv4 set so that one repair fails.
 */
test('reconcile exits 4 when QRadar rejects a repair, 0 once every repair is taken', {
  timeout: 300_000,
}, async (t) => {
  const { sim, base } = await startSim(t);
  const dir = mkdtempSync(join(tmpdir(), 'stixgate-reconcile-rejected-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const cfg = join(dir, 'stixgate.yaml');
  const write = (ipv6Set: string) =>
    writeFileSync(
      cfg,
      `data_dir: ${join(dir, 'data')}
correlation: { enabled: false }
sinks:
  qradar:
    type: qradar
    url: ${base}
    token: ${TOKEN}
    allow_private: true
    allow_insecure: true
    sets: { ipv6-addr: "${ipv6Set}" }
`,
      { mode: 0o600 },
    );
  write('stixgate - IPv4');
  writeFileSync(join(dir, 'a.txt'), '198.51.100.21\n198.51.100.22\n2001:db8::21\n');
  const c0 = ['-c', cfg];
  assert.equal(
    (await runCli(['ingest', join(dir, 'a.txt'), '--from', 'text_list', '-o', 'tlp=clear', ...c0])).status,
    0,
  );

  const plan = await runCli(['plan', 'qradar', '--json', ...c0]);
  assert.equal(plan.status, 1, plan.stderr);
  assert.equal(JSON.parse(plan.stdout).counts.missing, 3);

  const rejected = await runCli(['reconcile', 'qradar', '--json', ...c0]);
  assert.equal(rejected.status, 4, `a reconcile the product partly refused exits 4: ${rejected.stderr}`);
  const repaired = JSON.parse(rejected.stdout).repaired;
  assert.equal(repaired.rejected, 1);
  assert.equal(repaired.upserted, 2);
  assert.deepEqual(sim.values('stixgate - IPv4').sort(), ['198.51.100.21', '198.51.100.22']);
  const text = await runCli(['reconcile', 'qradar', ...c0]);
  assert.equal(text.status, 4, 'the same exit code without --json');
  assert.match(text.stdout, /1 rejected \(dead-letter file\)/);

  write('stixgate - IPv6');
  const fixed = await runCli(['reconcile', 'qradar', '--json', ...c0]);
  assert.equal(fixed.status, 0, `every repair taken: exit 0: ${fixed.stderr}`);
  assert.deepEqual(JSON.parse(fixed.stdout).repaired.rejected, 0);
  assert.deepEqual(sim.values('stixgate - IPv6'), ['2001:db8::21']);
});
