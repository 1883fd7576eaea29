import type { StixObject } from '../../src/core/stix.js';
import { must } from '../helpers/must.js';

/**
 * An independent model of what the data links, for the golden tests: built from the objects with
 * plain string handling (no code shared with src/correlate), one step at a time.
 */

const VALUE_RE = /(ipv4-addr|ipv6-addr|domain-name|url|email-addr):value\s*=\s*'((?:[^'\\]|\\.)*)'/g;
const HASH_RE = /file:hashes\.(?:MD5|'SHA-1'|'SHA-256'|'SHA-512'|"SHA-1"|"SHA-256")\s*=\s*'([0-9a-fA-F]+)'/g;

/** `type:value` strings an object stands for (patterns read by regex; the mappers write canonical values). */
export function plainValues(o: StixObject): string[] {
  const out = new Set<string>();
  if (o.type === 'indicator' && o.pattern_type === 'stix' && typeof o.pattern === 'string') {
    for (const m of o.pattern.matchAll(VALUE_RE))
      out.add(`${m[1]}:${m[1] === 'url' ? m[2] : must(m[2], 'm[2]').toLowerCase()}`);
    for (const m of o.pattern.matchAll(HASH_RE)) out.add(`file:${must(m[1], 'm[1]').toLowerCase()}`);
  } else if (
    ['ipv4-addr', 'ipv6-addr', 'domain-name', 'url', 'email-addr'].includes(o.type) &&
    typeof o.value === 'string'
  ) {
    out.add(`${o.type}:${o.type === 'url' ? o.value : o.value.toLowerCase()}`);
  } else if (o.type === 'file' && o.hashes && typeof o.hashes === 'object') {
    for (const h of Object.values(o.hashes as Record<string, string>)) out.add(`file:${h.toLowerCase()}`);
  }
  return [...out];
}

function urlHost(url: string): string | undefined {
  const m = /^[a-z][a-z0-9+.-]*:\/\/(?:[^@/?#]*@)?([^/:?#]+)/i.exec(url);
  return m ? must(m[1], 'm[1]').toLowerCase() : undefined;
}

export interface Model {
  byId: Map<string, StixObject>;
  live: (id: string) => boolean;
  /** Explicit neighbours: relationship ends and container/member links. */
  explicit: (id: string) => Set<string>;
  sameValue: (id: string) => Set<string>;
  onDomain: (id: string) => Set<string>;
  /** Hash indicators indicating a malware that `id` (a hash indicator) indicates. */
  siblings: (id: string) => Set<string>;
}

export function model(objects: StixObject[]): Model {
  const byId = new Map<string, StixObject>();
  for (const o of objects) byId.set(o.id, o);
  const live = (id: string) => {
    const o = byId.get(id);
    return !!o && o.revoked !== true;
  };
  const adj = new Map<string, Set<string>>();
  const indicates = new Map<string, Set<string>>(); // malware → indicators
  const add = (a: string, b: string) => {
    if (a === b) return;
    if (!adj.has(a)) adj.set(a, new Set());
    if (!adj.has(b)) adj.set(b, new Set());
    must(adj.get(a), 'adj.get(a)').add(b);
    must(adj.get(b), 'adj.get(b)').add(a);
  };
  const holders = new Map<string, Set<string>>();
  for (const o of byId.values()) {
    if (!live(o.id)) continue;
    if (o.type === 'relationship') {
      const s = o.source_ref as string;
      const t = o.target_ref as string;
      add(s, t);
      if (o.relationship_type === 'indicates' && byId.get(t)?.type === 'malware') {
        if (!indicates.has(t)) indicates.set(t, new Set());
        must(indicates.get(t), 'indicates.get(t)').add(s);
      }
    }
    if (['report', 'grouping', 'note', 'opinion', 'observed-data'].includes(o.type) && Array.isArray(o.object_refs)) {
      for (const r of o.object_refs as string[]) add(o.id, r);
    }
    if (o.type === 'sighting' && typeof o.sighting_of_ref === 'string') add(o.id, o.sighting_of_ref);
    for (const v of plainValues(o)) {
      if (!holders.has(v)) holders.set(v, new Set());
      must(holders.get(v), 'holders.get(v)').add(o.id);
    }
  }
  const domains = new Map<string, Set<string>>();
  for (const [v, hs] of holders) if (v.startsWith('domain-name:')) domains.set(v.slice('domain-name:'.length), hs);
  const liveSet = (ids: Iterable<string>, self: string) => new Set([...ids].filter((x) => x !== self && live(x)));
  const values = (id: string) => plainValues(must(byId.get(id), 'byId.get(id)'));
  return {
    byId,
    live,
    explicit: (id) => liveSet(adj.get(id) ?? [], id),
    sameValue: (id) =>
      liveSet(
        values(id).flatMap((v) => [...(holders.get(v) ?? [])]),
        id,
      ),
    onDomain: (id) => {
      const out: string[] = [];
      for (const v of values(id)) {
        if (v.startsWith('url:')) {
          const host = urlHost(v.slice(4));
          if (!host) continue;
          for (const [d, hs] of domains) if (host === d || host.endsWith(`.${d}`)) out.push(...hs);
        } else if (v.startsWith('domain-name:')) {
          const d = v.slice('domain-name:'.length);
          for (const [u, hs] of holders) {
            if (!u.startsWith('url:')) continue;
            const host = urlHost(u.slice(4));
            if (host && (host === d || host.endsWith(`.${d}`))) out.push(...hs);
          }
        }
      }
      return liveSet(out, id);
    },
    siblings: (id) => {
      if (!values(id).some((v) => v.startsWith('file:'))) return new Set();
      const out: string[] = [];
      for (const [, inds] of indicates) {
        if (!inds.has(id)) continue;
        for (const i of inds) if (values(i).some((v) => v.startsWith('file:'))) out.push(i);
      }
      return liveSet(out, id);
    },
  };
}
