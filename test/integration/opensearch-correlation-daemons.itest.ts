import { it, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashApiKey } from '../../src/server/index.js';
import { runCli, startDaemon } from '../helpers/daemon-proc.js';
import { ind, rel, sdo, sid } from '../correlate/fixtures.js';
import { OPENSEARCH_URL, SKIP_REASON, dropStore, storeOptions } from './opensearch-helpers.js';

/**
 * Two `stixgate run` processes on one OpenSearch store: the correlation index is computed by one
 * of them only (the lease holder) and both answer `related` and lookups' `related=true` from it.
 */
const KEY = 'k-correlation-daemons-3a2b1c0d9e8f7a6b';
const I = (n: number) => sid('indicator', n);

/** The value of an unlabelled counter in a Prometheus text exposition (0 when absent). */
const counter = (text: string, name: string): number => Number(new RegExp(`^${name} (\\d+)`, 'm').exec(text)?.[1] ?? 0);

if (SKIP_REASON) it('correlation daemons on OpenSearch', { skip: SKIP_REASON }, () => {});
else {
  test('two daemons on one store: one computes correlation; both answer related and lookup names alike', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'stixgate-links-daemons-'));
    const prefix = storeOptions().index_prefix;
    t.after(async () => {
      await dropStore(prefix);
      rmSync(dir, { recursive: true, force: true });
    });
    const start = async (name: string) => {
      const cfg = join(dir, `${name}.yaml`);
      writeFileSync(
        cfg,
        `data_dir: ${join(dir, name)}
store:
  type: opensearch
  node: ${OPENSEARCH_URL}
  index_prefix: ${prefix}
  number_of_replicas: 0
correlation: { enabled: true, follow_interval_ms: 200 }
server:
  port: 0
  api_keys:
    ops: { hash: "${hashApiKey(KEY)}", scopes: [admin, lookup, ingest, metrics], max_tlp: red }
`,
        { mode: 0o600 },
      );
      const d = startDaemon(['-c', cfg]);
      t.after(async () => {
        d.child.kill('SIGTERM');
        await d.exited;
      });
      await d.waitFor(/"msg":"ready"/);
      const url = (JSON.parse(readFileSync(join(dir, name, 'daemon.json'), 'utf8')) as { url: string }).url;
      return { cfg, url };
    };
    const a = await start('a');
    const b = await start('b');

    // recent, so that the store's expiry leaves the indicators live
    const now = new Date().toISOString();
    const recent = { created: now, modified: now, valid_from: now };
    const mal = sdo('malware', 1, 'Emotet', 'clear', { is_family: true });
    const objects = [
      ind(1, "[ipv4-addr:value = '198.51.100.61']", 'clear', recent),
      ind(2, "[ipv4-addr:value = '198.51.100.0/24']", 'clear', recent),
      mal,
      rel(1, I(1), 'indicates', mal.id, { object_marking_refs: [] }),
    ];
    const file = join(dir, 'bundle.json');
    writeFileSync(file, JSON.stringify({ type: 'bundle', id: `bundle--${crypto.randomUUID()}`, objects }));
    const ingest = await runCli(
      ['ingest', file, '--from', 'stix_bundle', '--source-id', 'pub', '-o', 'tlp=clear', '-c', a.cfg, '--url', a.url],
      { STIXGATE_API_KEY: KEY },
    );
    assert.equal(ingest.status, 0, ingest.stderr);

    const headers = { authorization: `Bearer ${KEY}` };
    const related = async (url: string) => {
      const r = await fetch(`${url}/api/v1/objects/${I(1)}/related?depth=2`, { headers });
      assert.equal(r.status, 200, await r.clone().text());
      return (await r.json()) as { related: { id: string }[] };
    };
    // the change log, the holder's tick and the links index's refresh each lag a little: ask
    // again until both instances see the whole neighbourhood, a bounded number of times
    const want = [I(2), mal.id].sort();
    let answers = [await related(a.url), await related(b.url)];
    for (
      let i = 0;
      i < 300 &&
      answers.some(
        (x) =>
          x.related
            .map((r) => r.id)
            .sort()
            .join() !== want.join(),
      );
      i++
    )
      answers = [await related(a.url), await related(b.url)];
    assert.deepEqual(answers[0]?.related.map((r) => r.id).sort(), want);
    assert.deepEqual(answers[1], answers[0], 'both instances answer alike');

    for (const url of [a.url, b.url]) {
      const r = await fetch(`${url}/api/v1/lookup?value=198.51.100.61&related=true`, { headers });
      assert.equal(r.status, 200);
      const body = (await r.json()) as { related?: { malware?: string[] } };
      assert.deepEqual(body.related?.malware, ['Emotet'], `lookup names on ${url}`);
    }

    const applied: number[] = [];
    for (const url of [a.url, b.url]) {
      const r = await fetch(`${url}/metrics`, { headers });
      assert.equal(r.status, 200);
      applied.push(counter(await r.text(), 'stixgate_correlation_changes_applied_total'));
    }
    assert.equal(applied.filter((n) => n > 0).length, 1, `only the lease holder applied changes: ${applied}`);
  });
}
