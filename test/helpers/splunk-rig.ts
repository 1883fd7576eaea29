import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { SplunkSimulator } from '../../integrations/splunk/simulator.js';

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
