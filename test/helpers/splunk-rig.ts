import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { SplunkSimulator } from '../../integrations/splunk/simulator.js';
import { hashApiKey } from '../../src/server/index.js';

/**
 * The start of the end-to-end tests that run a daemon against Splunk: a Splunk simulator on
 * 127.0.0.1 and a fresh temporary folder (named by `prefix`), both gone when the test ends.
 */
export async function splunkRig(
  t: TestContext,
  prefix: string,
): Promise<{ splunk: SplunkSimulator; base: string; dir: string }> {
  const splunk = new SplunkSimulator();
  const base = (await splunk.start()).base;
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.after(async () => {
    await splunk.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { splunk, base, dir };
}

/**
 * The `sinks:` section of a daemon configuration with one Splunk KV sink `kv` on the simulator at
 * `base` (its default credentials, loopback allowed, no scheduled push), plus `extra` keys of the
 * sink (YAML lines such as `max_tlp: amber`). The last section of the configuration it ends.
 */
export function kvSinkYaml(base: string, extra: readonly string[] = []): string {
  return [
    'sinks:',
    '  kv:',
    '    type: splunk_kv',
    `    url: ${base}`,
    '    auth: { username: admin, password: changeme }',
    '    allow_private: true',
    '    allow_insecure: true',
    '    interval_secs: 3600',
    ...extra.map((l) => `    ${l}`),
    '',
  ].join('\n');
}

/** An API key of the daemon's configuration: the key itself, its scopes and its TLP ceiling. */
export interface RigKey {
  key: string;
  scopes: readonly string[];
  maxTlp: string;
}

/**
 * Writes `<dir>/stixgate.yaml` (mode 0600) for a daemon on the rig: data in `<dir>/data`,
 * correlation off, `top` top-level lines, the server on a free port with `server` lines and the
 * API `keys` (hashed), then `sections` (such as `sources:`) and last the KV sink of kvSinkYaml
 * with `sink` keys. Returns the file's path.
 */
export function writeRigConfig(
  dir: string,
  base: string,
  o: { keys: Record<string, RigKey>; top?: string[]; server?: string[]; sections?: string[]; sink?: string[] },
): string {
  const file = join(dir, 'stixgate.yaml');
  const keys = Object.entries(o.keys).map(
    ([name, k]) =>
      `    ${name}: { hash: "${hashApiKey(k.key)}", scopes: [${k.scopes.join(', ')}], max_tlp: ${k.maxTlp} }`,
  );
  const lines = [
    `data_dir: ${join(dir, 'data')}`,
    'correlation: { enabled: false }',
    ...(o.top ?? []),
    'server:',
    '  port: 0',
    ...(o.server ?? []).map((l) => `  ${l}`),
    '  api_keys:',
    ...keys,
    ...(o.sections ?? []),
  ];
  writeFileSync(file, `${lines.join('\n')}\n${kvSinkYaml(base, o.sink)}`, { mode: 0o600 });
  return file;
}
