import { tlpRank, type StixObject, type TlpLevel } from '../core/stix.js';
import type { Store } from '../store/contract.js';
import { DEFAULT_POLICY, type AccessPolicy } from '../access/policy.js';
import { viewOf } from '../access/view.js';
import type { PathStep, Walker } from './query.js';
import { isLive } from './visibility.js';

export interface RelatedOptions {
  depth?: 1 | 2;
  limit?: number;
  types?: readonly string[];
  /** Most restrictive TLP the caller may see (default: no filter). */
  maxTlp?: TlpLevel;
  now?: number;
}

export interface RelatedItem {
  object: StixObject;
  path: PathStep[];
}

export interface RelatedResult {
  related: RelatedItem[];
  capped: boolean;
}

/** A type, not an interface, so that it is a `Record<string, string[]>` where the lookup answer wants one. */
export type RelatedSummary = {
  malware: string[];
  threat_actors: string[];
  intrusion_sets: string[];
  campaigns: string[];
  tools: string[];
  attack_patterns: string[];
  reports: string[];
};

const SUMMARY_KEYS: Record<string, keyof RelatedSummary> = {
  malware: 'malware',
  'threat-actor': 'threat_actors',
  'intrusion-set': 'intrusion_sets',
  campaign: 'campaigns',
  tool: 'tools',
  'attack-pattern': 'attack_patterns',
  report: 'reports',
};
const SUMMARY_MAX = 20;

/** Path `via` holds an object id or a value key (`<type>:<value>`); ids never contain a colon. */
const isObjectRef = (via: string): boolean => !via.includes(':');

/**
 * The objects related to `id` by a walk, each with the path that links them. Undefined when the
 * index does not know the id. Objects missing from the store, revoked, expired, or above
 * `maxTlp` (as the result or anywhere on its path) are left out.
 */
export async function relatedOf(
  walker: Walker,
  store: Store,
  id: string,
  o: RelatedOptions,
  access: AccessPolicy = DEFAULT_POLICY,
): Promise<RelatedResult | undefined> {
  const limit = Math.max(1, Math.min(o.limit ?? 100, 1000));
  const walk = await walker.walk(id, { depth: o.depth ?? 1, limit, types: o.types });
  if (!walk) return undefined;
  const { ids, paths: stepped } = await walker.steps(
    walk.found.map((f) => f.path),
    walk.found.map((f) => f.n),
  );
  const paths = walk.found.map((f, i) => ({ id: ids.get(f.n) ?? '', path: stepped[i] ?? [] }));
  const need = new Set<string>();
  for (const p of paths) {
    need.add(p.id);
    for (const s of p.path) {
      need.add(s.from);
      need.add(s.to);
      if (s.via !== undefined && isObjectRef(s.via)) need.add(s.via);
    }
  }
  need.delete(id);
  const stored = await store.getMany([...need]);
  const now = o.now ?? Date.now();
  // every object as the caller may see it (src/access): only its visible contributions
  const objects = new Map<string, StixObject>();
  for (const [ref, obj] of stored) {
    const v = o.maxTlp !== undefined ? viewOf(obj, o.maxTlp, access) : obj;
    if (v) objects.set(ref, v);
  }
  const visible = (ref: string, required: boolean): boolean => {
    const obj = objects.get(ref);
    if (!obj) return !required && !stored.has(ref);
    return isLive(obj, now);
  };
  const related: RelatedItem[] = [];
  for (const p of paths) {
    const object = objects.get(p.id);
    if (!object || !visible(object.id, true)) continue;
    const ok = p.path.every(
      (s) =>
        (s.from === id || visible(s.from, true)) &&
        (s.to === id || visible(s.to, true)) &&
        (s.via === undefined || !isObjectRef(s.via) || visible(s.via, false)),
    );
    if (ok) related.push({ object, path: p.path });
  }
  return { related, capped: walk.capped };
}

export function emptySummary(): RelatedSummary {
  return {
    malware: [],
    threat_actors: [],
    intrusion_sets: [],
    campaigns: [],
    tools: [],
    attack_patterns: [],
    reports: [],
  };
}

/** The summary of named neighbours (type name, name, TLP rank), at most SUMMARY_MAX names of each kind, sorted. */
export function summaryOf(
  rows: readonly { type: string; name: string; tlp: number }[],
  maxTlp?: TlpLevel,
): RelatedSummary {
  const out = emptySummary();
  const max = maxTlp !== undefined ? tlpRank(maxTlp) : Number.POSITIVE_INFINITY;
  for (const r of rows) {
    const key = SUMMARY_KEYS[r.type];
    if (!key || r.tlp > max) continue;
    const list = out[key];
    if (list.length < SUMMARY_MAX && !list.includes(r.name)) list.push(r.name);
  }
  for (const list of Object.values(out)) list.sort();
  return out;
}
