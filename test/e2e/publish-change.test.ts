import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Daemon } from '../../src/daemon.js';
import { registry } from '../../integrations/index.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { isStixgateError } from '../../src/core/errors.js';
import { must } from '../helpers/must.js';
import { fourSinksYaml, startFourSims } from '../helpers/four-sinks.js';

/**
 * Issue #13: a warninglist loaded at run time, and an ingest allowlist entry added by a reload,
 * take values already pushed out of every sink on the sinks' next run, although the values
 * themselves did not change (Splunk KV and ES, XSOAR and QRadar simulators, through the daemon).
 */

const VALUES = Array.from({ length: 12 }, (_, i) => `198.51.100.${i + 10}`);
const sorted = (xs: Iterable<string>) => [...xs].sort();

function warninglist(values: string[]): string {
  return JSON.stringify({
    name: 'Known scanners',
    version: values.length,
    description: 'test list',
    type: 'string',
    matching_attributes: ['ip-src', 'ip-dst'],
    list: values,
  });
}

test('a warninglist reloaded at run time and an allowlist reload withdraw pushed values from every sink', {
  timeout: 180_000,
}, async (t) => {
  const { splunk, xsoar, qradar, bases, dir } = await startFourSims(t, 'stixgate-publish-change-', [
    { key: 'key-one', id: 1, type: 'standard' },
  ]);
  writeFileSync(join(dir, 'feed.txt'), VALUES.join('\n'));
  const wl = join(dir, 'scanners.json');
  writeFileSync(wl, warninglist(['203.0.113.250']));
  const configFile = join(dir, 'stixgate.yaml');
  const writeConfig = (allowlist: string[]) =>
    writeFileSync(
      configFile,
      `data_dir: ${join(dir, 'data')}
correlation: { enabled: false }
server: { port: 0 }
warninglists: { paths: [${wl}] }
allowlist: [${allowlist.join(', ')}]
sources:
  feed:
    type: text_list
    url: file://${join(dir, 'feed.txt')}
    interval_secs: 86400
    run_on_start: false
    confidence: 80
    tlp: clear
${fourSinksYaml(bases, { intervalSecs: 86400, xsoar: ['api_key: key-one'] })}`,
    );
  writeConfig([]);
  const daemon = new Daemon({ configPath: configFile, registry, logger: silentLogger(), port: 0 });
  await daemon.start();
  t.after(() => daemon.stop());

  /** Runs a job now; when its scheduled run is still going, runs it again once that one ends. */
  const run = async (id: string): Promise<void> => {
    for (;;) {
      try {
        return await daemon.runNow(id);
      } catch (e) {
        if (!isStixgateError(e) || e.code !== 'STIXGATE_ERR_JOB_RUNNING') throw e;
        await new Promise((r) => setImmediate(r));
      }
    }
  };
  const pushAll = async () => {
    for (const id of ['kv', 'es', 'xsoar', 'qradar']) await run(`sink:${id}`);
  };
  const held = () => ({
    kv: sorted(splunk.documents('search', 'stixgate_indicators').map((d) => String(d.indicator))),
    es: sorted(splunk.documents('DA-ESS-ThreatIntelligence', 'ip_intel').map((d) => String(d.ip))),
    xsoar: sorted(xsoar.indicators().map((i) => i.value)),
    qradar: sorted(qradar.values('stixgate - IPv4')),
  });
  const everywhere = (expected: string[]) => ({
    kv: sorted(expected),
    es: sorted(expected),
    xsoar: sorted(expected),
    qradar: sorted(expected),
  });

  await run('feed');
  await pushAll();
  assert.deepEqual(held(), everywhere(VALUES), 'every sink holds the feed');

  // the warninglist file changes; the refresh job loads it; the sinks' next runs withdraw its values
  const listed = VALUES.slice(0, 2);
  writeFileSync(wl, warninglist(['203.0.113.250', ...listed]));
  await run('warninglists');
  await pushAll();
  const afterList = VALUES.filter((v) => !listed.includes(v));
  assert.deepEqual(held(), everywhere(afterList), 'the warninglisted values are gone from every sink');

  // nothing changed since: the next runs send nothing
  const requests = () => splunk.requests.length + xsoar.requests.length + qradar.requests.length;
  const before = requests();
  await pushAll();
  assert.equal(requests(), before, 'the withdrawal runs once per change of the lists');

  // an ingest allowlist entry added by a reload: the stored value is withdrawn as well
  writeConfig([must(VALUES[5], 'VALUES[5]')]);
  assert.equal(await daemon.reload(), true);
  await pushAll();
  assert.deepEqual(
    held(),
    everywhere(afterList.filter((v) => v !== VALUES[5])),
    'the allowlisted value is gone from every sink',
  );
});
