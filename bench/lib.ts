import { createServer, type Server } from 'node:http';
import { createReadStream, statSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { must } from '../test/helpers/must.js';
import { prng } from '../test/store/fixtures.js';

/** One row of the benchmark table. */
export interface Row {
  workload: string;
  what: string;
  items?: number;
  seconds?: number;
  /** items per second */
  rate?: number;
  p50_ms?: number;
  p99_ms?: number;
  p999_ms?: number;
  peak_rss_mb?: number;
  cpu_s_per_1k?: number;
  target?: string;
  /** ratio against the in-run peer or target, with its meaning */
  ratio?: string;
  note?: string;
}

/** A 32-bit PRNG (mulberry32): deterministic and uniform across the full range (the fixtures' one). */
export { prng };

const WORDS = [
  'alpha',
  'bravo',
  'delta',
  'echo',
  'kilo',
  'lima',
  'nova',
  'omega',
  'sigma',
  'tango',
  'zulu',
  'vector',
  'quartz',
  'ember',
];
const TLDS = ['com', 'net', 'org', 'info', 'xyz', 'ru', 'io', 'top'];

export type GenType = 'ipv4-addr' | 'domain-name' | 'url' | 'sha256';

/** The i-th synthetic indicator value: a quarter each of IPv4, domain, URL and SHA-256. */
export function syntheticValue(i: number, salt = 0): { type: GenType; value: string } {
  const r = prng(i * 2654435761 + salt);
  const kind = i & 3;
  if (kind === 0) {
    // unique per i: spread i over the public-ish space 11.0.0.0 - 223.255.255.255
    const n = (0x0b000000 + (((i >>> 2) * 2654435761) % 0xd4000000)) >>> 0;
    return { type: 'ipv4-addr', value: `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}` };
  }
  const word = WORDS[Math.floor(r() * WORDS.length)];
  const host = `${word}${i.toString(36)}.${TLDS[Math.floor(r() * TLDS.length)]}`;
  if (kind === 1) return { type: 'domain-name', value: host };
  if (kind === 2)
    return {
      type: 'url',
      value: `http://${host}/${WORDS[Math.floor(r() * WORDS.length)]}/${(i * 7919).toString(16)}.php?id=${Math.floor(r() * 1e6)}`,
    };
  let hex = '';
  for (let k = 0; k < 8; k++) hex += (Math.floor(r() * 4294967296) >>> 0).toString(16).padStart(8, '0');
  return { type: 'sha256', value: hex };
}

export function percentile(sorted: Float64Array | number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return must(sorted[idx], 'sorted[idx]');
}

/** Serves one file at /<name> on 127.0.0.1 with a fixed ETag (a local feed stub). */
export async function serveFile(path: string): Promise<{ url: string; server: Server }> {
  const size = statSync(path).size;
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/csv', 'content-length': String(size) });
    createReadStream(path).pipe(res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return { url: `http://127.0.0.1:${port}/feed.csv`, server };
}

export function cpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

export function peakRssMb(): number {
  return Math.round(process.resourceUsage().maxRSS / 1024);
}

export function round(n: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}
