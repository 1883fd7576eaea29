/**
 * Shared set-up for the warninglist corpus tests: the corpus lists loaded raw (as the oracle
 * sees them) and compiled once (as the matcher sees them), plus brute-force reference checks that
 * share no code with the matcher.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CORPUS_DIR } from '../helpers/corpus.js';
import { existsSync } from 'node:fs';
import { buildWarninglistMatcher, type BuildResult } from '../../src/filter/warninglists.js';
import type { Observable } from '../../src/core/stix.js';
import { must } from '../helpers/must.js';

export const WL_DIR = join(CORPUS_DIR, 'misp-warninglists');
export const SKIP: string | false = existsSync(join(WL_DIR, 'lists'))
  ? false
  : `corpus ${WL_DIR} not present (set STIXGATE_CORPUS)`;

export interface RawList {
  name: string;
  type: string;
  list: string[];
  matching_attributes?: string[];
}

export function raw(id: string): RawList {
  return JSON.parse(readFileSync(join(WL_DIR, 'lists', id, 'list.json'), 'utf8')) as RawList;
}

let built: Promise<BuildResult> | undefined;
export function corpusMatcher(): Promise<BuildResult> {
  built ??= buildWarninglistMatcher({ paths: [WL_DIR] });
  return built;
}

/** Ids of the lists an observable hits. */
export function hitIds(r: BuildResult, o: Observable): string[] {
  return r.matcher.match(o).map((h) => h.id);
}

/** Every n-th element (and the last), so that big lists are sampled evenly. */
export function sample<T>(xs: readonly T[], max: number): T[] {
  if (xs.length <= max) return [...xs];
  const step = xs.length / max;
  const out: T[] = [];
  for (let i = 0; i < max; i++) out.push(must(xs[Math.floor(i * step)], 'xs[Math.floor(i * step)]'));
  out.push(must(xs[xs.length - 1], 'xs[xs.length - 1]'));
  return out;
}

// --- reference IP arithmetic (BigInt, independent of src/) ----------------------------------

export interface Range {
  v: 4 | 6;
  lo: bigint;
  hi: bigint;
}

function v6ToBig(s: string): bigint {
  const [head, tail] = s.toLowerCase().split('::');
  const h = head ? head.split(':') : [];
  const t = tail !== undefined ? (tail ? tail.split(':') : []) : [];
  const groups = tail !== undefined ? [...h, ...Array(8 - h.length - t.length).fill('0'), ...t] : h;
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n);
}

export function toRange(entry: string): Range {
  const [addr, len] = entry.trim().split('/');
  const v = must(addr, 'addr').includes(':') ? 6 : 4;
  const bits = v === 4 ? 32 : 128;
  const n =
    v === 4
      ? must(addr, 'addr')
          .split('.')
          .reduce((a, p) => (a << 8n) | BigInt(Number(p)), 0n)
      : v6ToBig(must(addr, 'addr'));
  const prefix = len === undefined ? bits : Number(len);
  const size = 1n << BigInt(bits - prefix);
  const lo = (n / size) * size;
  return { v, lo, hi: lo + size - 1n };
}

export function fromBig(v: 4 | 6, n: bigint): string {
  if (v === 4) return [24n, 16n, 8n, 0n].map((s) => String((n >> s) & 255n)).join('.');
  const parts: string[] = [];
  for (let i = 7; i >= 0; i--) parts.push(((n >> BigInt(i * 16)) & 0xffffn).toString(16));
  return parts.join(':');
}

export function covered(ranges: readonly Range[], r: Range): boolean {
  return ranges.some((x) => x.v === r.v && x.lo <= r.lo && r.hi <= x.hi);
}

/** Reference hostname rule: the host or a parent on a label boundary is an entry. */
export function hostListed(entries: ReadonlySet<string>, host: string): boolean {
  const labels = host.split('.');
  for (let i = 0; i < labels.length; i++) if (entries.has(labels.slice(i).join('.'))) return true;
  return false;
}

export function hostEntrySet(l: RawList): Set<string> {
  return new Set(
    l.list.map((e) =>
      e
        .trim()
        .replace(/^\*\./, '')
        .replace(/^\.+|\.+$/g, '')
        .toLowerCase(),
    ),
  );
}
