/**
 * Batch lookup throughput through the HTTP stack (fastify inject or a real socket), 1M indicators.
 * Not part of the test suite. Run: node --import tsx test/server/bench-batch.ts [N] [batch] [socket]
 */
import { createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { LookupIndex } from '../../src/lookup/index.js';
import { T0, change, indicator, ChangeLogStore } from '../lookup/fixtures.js';
import { KEYS, serverConfig, quietServer } from './helpers.js';
import { must } from '../helpers/must.js';

const N = Number(process.argv[2] ?? 1_000_000);
const BATCH = Number(process.argv[3] ?? 100);
const SOCKET = process.argv[4] === 'socket';
const raw = (i: number): string => {
  switch (i & 3) {
    case 0:
      return `${10 + ((i >>> 18) & 63)}.${(i >>> 10) & 255}.${(i >>> 2) & 255}.${(i * 7) & 255}`;
    case 1:
      return `host${i.toString(36)}.bad-domain-${i % 997}.com`;
    case 2:
      return `http://site${i % 5003}.example.net/path/${i.toString(36)}/payload.exe`;
    default:
      return createHash('sha256').update(String(i)).digest('hex');
  }
};
const patternOf = (i: number, v: string): string =>
  must(
    [
      `[ipv4-addr:value = '${v}']`,
      `[domain-name:value = '${v}']`,
      `[url:value = '${v}']`,
      `[file:hashes.'SHA-256' = '${v}']`,
    ][i & 3],
    "[ `[ipv4-addr:value = '${v}']`, `[domain-name:value = '${...",
  );

const index = new LookupIndex({ now: () => T0 });
for (let i = 0; i < N; i++) index.apply(change(indicator({ n: i + 1, pattern: patternOf(i, raw(i)) })));
const app = quietServer({
  config: serverConfig({ max_batch_size: 10000, rate_limit: { enabled: false } }),
  index,
  store: new ChangeLogStore().asStore(),
  now: () => T0,
});
// 50/50 hits and misses
const bodies: string[] = [];
for (let b = 0; b < 50; b++) {
  const values = Array.from({ length: BATCH }, (_, k) => {
    const i = ((b * BATCH + k) * 7919) % N;
    return k & 1 ? raw(i) : `192.0.2.${k & 255}`;
  });
  bodies.push(JSON.stringify({ values }));
}
const headers = { 'content-type': 'application/json', authorization: `Bearer ${KEYS.reader}` };
let url = '';
if (SOCKET) {
  await app.listen({ host: '127.0.0.1', port: 0 });
  url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/api/v1/lookup`;
} else await app.ready();
const REQS = SOCKET ? 2000 : 3000;
for (let round = 0; round < 2; round++) {
  const t = performance.now();
  if (SOCKET) {
    let next = 0;
    const worker = async () => {
      while (next < REQS) {
        const body = bodies[next++ % bodies.length];
        const res = await fetch(url, { method: 'POST', headers, body });
        if (res.status !== 200) throw new Error(`status ${res.status}`);
        await res.arrayBuffer();
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
  } else {
    for (let r = 0; r < REQS; r++) {
      const res = await app.inject({
        method: 'POST',
        url: '/api/v1/lookup',
        headers,
        payload: bodies[r % bodies.length],
      });
      if (res.statusCode !== 200) throw new Error(`status ${res.statusCode}`);
    }
  }
  const s = (performance.now() - t) / 1000;
  console.log(
    `${SOCKET ? 'socket' : 'inject'} batch ${BATCH}: ${(REQS / s).toFixed(0)} req/s = ${((REQS * BATCH) / s / 1000).toFixed(0)}k lookups/s`,
  );
}
await app.close();
