import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { PROJECT_ROOT } from '../helpers/corpus.js';
import { must } from '../helpers/must.js';
import { anyExited, until, untilValue } from '../helpers/until.js';

/**
 * Issue 3, end to end: two gateway processes share one OpenSearch store. One feed is polled by
 * both schedules, yet never by both at once (lease); what instance A ingests, instance B answers;
 * killing the lease holder with SIGKILL hands the job to the other within the lease expiry.
 */
const OS = process.env.STIXGATE_OPENSEARCH_URL;
const N = 3000;
const LEASE_SECS = 5;
const ipOf = (i: number) => `45.${(i >> 8) & 255}.${i & 255}.7`;

interface Instance {
  name: string;
  child: ChildProcess;
  address: string;
  out: () => string;
}

async function start(name: string, cfg: string): Promise<Instance> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(PROJECT_ROOT, 'src', 'cli.ts'), 'run', '--config', cfg, '--port', '0'],
    {
      cwd: PROJECT_ROOT,
      env: { ...process.env, STIXGATE_LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  must(child.stdout, 'child.stdout').on('data', (d) => (out += d));
  must(child.stderr, 'child.stderr').on('data', (d) => (out += d));
  const address = await untilValue(`${name} logs its address`, () => /"address":"(http:\/\/[^"]+)"/.exec(out)?.[1], {
    ms: 30_000,
    gone: anyExited([child], () => out),
  });
  return { name, child, address, out: () => out };
}

async function matched(inst: Instance, value: string): Promise<boolean> {
  const r = await fetch(`${inst.address}/api/v1/lookup?value=${value}`).catch(() => undefined);
  if (r?.status !== 200) return false;
  return ((await r.json()) as { matched: boolean }).matched;
}

test('two instances on one OpenSearch: one poller at a time, shared lookups, hand-over after kill -9', {
  skip: OS ? false : 'STIXGATE_OPENSEARCH_URL not set: run through scripts/integration.sh',
  timeout: 180_000,
}, async (t) => {
  // a feed that takes ~2.5 s to send, so that overlapping polls would show
  let active = 0;
  let maxActive = 0;
  let requests = 0;
  const body = `${Array.from({ length: N }, (_, i) => ipOf(i)).join('\n')}\n`;
  const feed = createServer((_req, res) => {
    requests++;
    active++;
    maxActive = Math.max(maxActive, active);
    res.writeHead(200, { 'content-type': 'text/plain' });
    const chunks = 10;
    const size = Math.ceil(body.length / chunks);
    let k = 0;
    const timer = setInterval(() => {
      if (k < chunks) res.write(body.slice(k * size, (k + 1) * size));
      if (++k > chunks) {
        clearInterval(timer);
        res.end();
      }
    }, 250);
    res.on('close', () => {
      clearInterval(timer);
      active--;
    });
  });
  await new Promise<void>((r) => feed.listen(0, '127.0.0.1', r));
  const feedUrl = `http://127.0.0.1:${(feed.address() as AddressInfo).port}/feed.txt`;
  const prefix = `stixgate-two-${Date.now().toString(36)}`;
  const dir = mkdtempSync(join(tmpdir(), 'stixgate-two-'));
  const config = (name: string) => {
    const p = join(dir, `${name}.yaml`);
    writeFileSync(
      p,
      `data_dir: ${join(dir, name)}
min_interval_secs: 1
lease_ttl_secs: ${LEASE_SECS}
lookup: { follow_interval_ms: 200 }
store: { type: opensearch, node: "${OS}", index_prefix: ${prefix}, number_of_replicas: 0 }
server: { anonymous_lookup: true }
sources:
  feed:
    type: text_list
    url: ${feedUrl}
    value_type: ipv4-addr
    tlp: clear
    schedule: "*/2 * * * * *"
    allow_private: true
    allow_insecure: true
`,
    );
    return p;
  };
  const a = await start('A', config('a'));
  const b = await start('B', config('b'));
  const instances = [a, b];
  try {
    const t0 = Date.now();
    await until(
      'both instances answer the last value',
      async () => (await matched(a, ipOf(N - 1))) && (await matched(b, ipOf(N - 1))),
      60_000,
    );
    t.diagnostic(`both instances answered after ${Date.now() - t0} ms; feed requests so far ${requests}`);
    assert.equal(await matched(a, ipOf(0)), true);
    assert.equal(await matched(b, '45.250.250.250'), false);

    // hand-over: kill the current holder mid-fetch, the other one polls within the lease expiry
    await until('a poll in progress', async () => active > 0, 20_000);
    const lease = (await (
      await fetch(`${OS}/${prefix}-meta/_doc/${encodeURIComponent('lease:source:feed')}`)
    ).json()) as { _source?: { holder: string } };
    const holderPid = Number(lease._source?.holder.split(':')[1]);
    const holder = instances.find((i) => i.child.pid === holderPid);
    assert.ok(holder, `lease holder ${lease._source?.holder} is one of the instances`);
    const survivor = must(
      instances.find((i) => i !== holder),
      'instances.find((i) => i !== holder)',
    );
    const before = requests;
    holder.child.kill('SIGKILL');
    const killedAt = Date.now();
    await until('the survivor polls', async () => requests > before && active > 0, (LEASE_SECS + 10) * 1000);
    const handover = Date.now() - killedAt;
    t.diagnostic(`${survivor.name} took the job over ${handover} ms after ${holder.name} was killed`);
    assert.ok(handover <= (LEASE_SECS + 3) * 1000, `hand-over took ${handover} ms`);
    assert.equal(await matched(survivor, ipOf(1234)), true);
    assert.equal(maxActive, 1, 'the feed was never polled by two instances at once');
  } finally {
    for (const i of instances) if (i.child.exitCode === null) i.child.kill('SIGTERM');
    feed.close();
    await fetch(`${OS}/${prefix}-*`, { method: 'DELETE' }).catch(() => undefined);
  }
});
