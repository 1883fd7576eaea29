/** Helpers over untrusted MISP JSON and the shared state of one event's mapping. */
import { parseTlp, TLP_MARKING_BY_LEVEL, tlpRank, type TlpLevel } from '../../src/core/stix.js';

export type Json = Record<string, unknown>;

export function obj(v: unknown): Json | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : undefined;
}
export function arr(v: unknown): Json[] {
  return Array.isArray(v) ? (v.filter((x) => obj(x) !== undefined) as Json[]) : [];
}
export function str(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return undefined;
}
export function bool(v: unknown): boolean {
  return v === true || v === 1 || v === '1' || v === 'true';
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** A MISP uuid usable as the UUID part of a STIX id (lower-cased), or undefined. */
export function uuidOf(v: unknown): string | undefined {
  const s = str(v)?.toLowerCase();
  return s !== undefined && UUID.test(s) ? s : undefined;
}

/** MISP epoch-seconds timestamp → epoch seconds (undefined when absent or not a number). */
export function epochOf(v: unknown): number | undefined {
  const s = str(v);
  if (s === undefined || !/^\d{1,12}$/.test(s)) return undefined;
  const n = Number(s);
  return n > 0 ? n : undefined;
}
/** Events repeat few distinct timestamps over many attributes: the last ones are memoised. */
let isoMemo = new Map<number, string>();
export function isoOf(epochSecs: number): string {
  let s = isoMemo.get(epochSecs);
  if (s === undefined) {
    s = new Date(epochSecs * 1000).toISOString();
    if (isoMemo.size >= 4096) isoMemo = new Map();
    isoMemo.set(epochSecs, s);
  }
  return s;
}

/** MISP `first_seen`/`last_seen` (ISO 8601 with offset, microseconds) → RFC 3339 UTC. */
export function seenOf(v: unknown): string | undefined {
  const s = str(v);
  if (!s || s.length > 40) return undefined;
  const ms = Date.parse(s);
  return Number.isFinite(ms) && /^\d{4}-\d{2}-\d{2}T/.test(s) ? new Date(ms).toISOString() : undefined;
}

export interface TagResult {
  tlp?: TlpLevel;
  labels: string[];
}

/** Tags → the most restrictive TLP and labels (PAP, taxonomies, free tags). Galaxy tags are left to the galaxies. */
export function readTags(tags: Json[]): TagResult {
  const out: TagResult = { labels: [] };
  for (const t of tags) {
    const name = str(t.name)?.trim();
    if (!name) continue;
    if (/^tlp:/i.test(name)) {
      const level = parseTlp(name);
      // an unknown TLP tag fails closed
      const l: TlpLevel = level ?? 'red';
      if (out.tlp === undefined || tlpRank(l) > tlpRank(out.tlp)) out.tlp = l;
      continue;
    }
    if (name.startsWith('misp-galaxy:')) continue;
    if (out.labels.length < 100) out.labels.push(name.slice(0, 256));
  }
  return out;
}

export function markingFor(tlp: TlpLevel | undefined): string[] | undefined {
  return tlp ? [TLP_MARKING_BY_LEVEL[tlp]] : undefined;
}
