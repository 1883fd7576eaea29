import type { Indicator, StixObject } from '../../src/core/stix.js';

/** mulberry32: a small deterministic PRNG (Math.imul), for reproducible fixtures. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A UUID-shaped id suffix from a number (deterministic, unique per n). */
export function uuidFor(n: number, salt = 0): string {
  const h = (x: number) => (x >>> 0).toString(16).padStart(8, '0');
  const a = h(Math.imul(n ^ 0x9e3779b9, 0x85ebca6b) ^ salt);
  const b = h(n);
  return `${a}-${b.slice(0, 4)}-4${b.slice(5, 8)}-8${h(salt).slice(1, 4)}-${h(Math.imul(n, 0xc2b2ae35)).slice(0, 4)}${b}`;
}

export function ipFor(n: number): string {
  return `${10 + ((n >>> 24) & 0x7f)}.${(n >>> 16) & 0xff}.${(n >>> 8) & 0xff}.${n & 0xff}`;
}

export const T0 = Date.parse('2024-03-01T00:00:00.000Z');
export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;

/** A small IPv4 indicator number `n` (about 330 bytes stored), as a list-feed mapper would make it. */
export function indicatorFor(
  n: number,
  opts: { modified?: number; validUntil?: number; name?: string } = {},
): Indicator {
  const ip = ipFor(n);
  const ts = new Date(opts.modified ?? T0).toISOString();
  const ind: Indicator = {
    type: 'indicator',
    spec_version: '2.1',
    id: `indicator--${uuidFor(n)}`,
    created: ts,
    modified: ts,
    name: opts.name ?? `Malicious IP ${ip}`,
    pattern: `[ipv4-addr:value = '${ip}']`,
    pattern_type: 'stix',
    valid_from: ts,
    indicator_types: ['malicious-activity'],
  };
  if (opts.validUntil !== undefined) ind.valid_until = new Date(opts.validUntil).toISOString();
  return ind;
}

/** A deep JSON copy (what arrives from a parser). */
export function clone<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}

/** Strips volatile store fields for comparisons. */
export function withoutProvenance(o: StixObject | undefined): StixObject | undefined {
  if (!o) return o;
  const c = { ...o };
  delete c.x_stixgate;
  return c;
}
