/**
 * Memory and speed of the lookup index at N indicators (default 1M, mixed IPv4 / domain / URL /
 * SHA-256). Not part of the test suite. Run:
 *   node --expose-gc --import tsx test/lookup/bench-index.ts [N]
 */
import { createHash } from 'node:crypto';
import { LookupIndex } from '../../src/lookup/index.js';
import { detectObservable } from '../../src/core/observable.js';
import { T0, change, indicator } from './fixtures.js';

const N = Number(process.argv[2] ?? 1_000_000);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');

function valueAt(i: number): { pattern: string; raw: string } {
  switch (i & 3) {
    case 0: {
      const ip = `${10 + ((i >>> 18) & 63)}.${(i >>> 10) & 255}.${(i >>> 2) & 255}.${(i * 7) & 255}`;
      return { pattern: `[ipv4-addr:value = '${ip}']`, raw: ip };
    }
    case 1: {
      const d = `host${i.toString(36)}.bad-domain-${i % 997}.com`;
      return { pattern: `[domain-name:value = '${d}']`, raw: d };
    }
    case 2: {
      const u = `http://site${i % 5003}.example.net/path/${i.toString(36)}/payload.exe`;
      return { pattern: `[url:value = '${u}']`, raw: u };
    }
    default: {
      const h = createHash('sha256').update(String(i)).digest('hex');
      return { pattern: `[file:hashes.'SHA-256' = '${h}']`, raw: h };
    }
  }
}

/** Heap plus typed-array backing stores (which live outside the V8 heap). */
function used(): number {
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

gc();
const before = used();
const index = new LookupIndex({ now: () => T0 });
let t = performance.now();
for (let i = 0; i < N; i++) {
  index.apply(
    change(
      indicator({
        n: i + 1,
        pattern: valueAt(i).pattern,
        tlp: i % 3 === 0 ? 'clear' : 'green',
        labels: i % 5 === 0 ? ['malware'] : undefined,
      }),
    ),
  );
}
const buildMs = performance.now() - t;
gc();
gc();
const after = used();
console.log(
  `built ${index.size} indicators in ${(buildMs / 1000).toFixed(1)} s; sizes ${JSON.stringify(index.sizes())}`,
);
console.log(
  `heap: ${((after - before) / 1e6).toFixed(1)} MB → ${((after - before) / N).toFixed(1)} bytes per indicator`,
);

// 50/50 hits and misses over all types
const M = 200_000;
const queries: string[] = [];
for (let q = 0; q < M; q++) {
  const i = (q * 7919) % N;
  const raw = valueAt(i).raw;
  // every type half hits, half misses (a changed last character; a private IP for IPv4)
  const hit = ((q >> 2) & 1) === 1;
  queries.push(
    hit
      ? raw
      : (i & 3) === 0
        ? `172.16.${q & 255}.${(q >> 8) & 255}`
        : raw.slice(0, -1) + (raw.endsWith('0') ? '1' : '0'),
  );
}
for (const kind of ['mixed', 'ipv4', 'domain', 'url', 'sha256'] as const) {
  const qs =
    kind === 'mixed'
      ? queries
      : queries.filter((_, q) => (((q * 7919) % N) & 3) === ['ipv4', 'domain', 'url', 'sha256'].indexOf(kind));
  let hits = 0;
  for (let r = 0; r < 2; r++) {
    t = performance.now();
    hits = 0;
    for (const q of qs) if (index.lookup(q, T0, 'amber').matched) hits++;
  }
  const s = (performance.now() - t) / 1000;
  t = performance.now();
  let valid = 0;
  for (const q of qs) if (detectObservable(q).ok) valid++;
  const d = (performance.now() - t) / 1000;
  console.log(
    `${kind}: ${(qs.length / s / 1e6).toFixed(2)} M lookups/s (${hits}/${qs.length} hits, ${valid} valid); detectObservable alone ${(qs.length / d / 1e6).toFixed(2)} M/s`,
  );
}
