import type { Change, ChangePage, Store, StoreStats } from '../../src/store/contract.js';
import type { Indicator, StixObject, TlpLevel } from '../../src/core/stix.js';
import { TLP_MARKING_BY_LEVEL } from '../../src/core/stix.js';
import { createHash } from 'node:crypto';
import { must } from '../helpers/must.js';

export const T0 = Date.parse('2026-03-01T00:00:00.000Z');

export function uuidId(n: number): string {
  return `indicator--00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
}

export interface IndicatorSpec {
  n: number;
  pattern: string;
  tlp?: TlpLevel;
  validUntil?: number;
  revoked?: boolean;
  score?: number;
  labels?: string[];
  /** Provenance; each source's TLP defaults to `tlp` (the store records one per contribution). */
  sources?: Record<string, { first_seen: string; last_seen: string; labels?: string[]; tlp?: TlpLevel }>;
}

function withTlp(sources: NonNullable<IndicatorSpec['sources']>, tlp: TlpLevel): NonNullable<IndicatorSpec['sources']> {
  const out: NonNullable<IndicatorSpec['sources']> = {};
  for (const [k, p] of Object.entries(sources)) out[k] = { ...p, tlp: p.tlp ?? tlp };
  return out;
}

export function indicator(spec: IndicatorSpec): Indicator {
  return {
    type: 'indicator',
    spec_version: '2.1',
    id: uuidId(spec.n),
    created: '2026-01-01T00:00:00.000Z',
    modified: '2026-01-01T00:00:00.000Z',
    pattern: spec.pattern,
    pattern_type: 'stix',
    valid_from: '2026-01-01T00:00:00.000Z',
    ...(spec.validUntil !== undefined ? { valid_until: new Date(spec.validUntil).toISOString() } : {}),
    ...(spec.revoked ? { revoked: true } : {}),
    ...(spec.labels ? { labels: spec.labels } : {}),
    object_marking_refs: [TLP_MARKING_BY_LEVEL[spec.tlp ?? 'green']],
    x_stixgate: {
      sources: withTlp(
        spec.sources ?? { feed_a: { first_seen: '2026-01-02T00:00:00.000Z', last_seen: '2026-02-01T00:00:00.000Z' } },
        spec.tlp ?? 'green',
      ),
      ...(spec.score !== undefined ? { score: spec.score } : {}),
    },
  };
}

let seq = 0;
export function change(object: StixObject, op: Change['op'] = 'upsert'): Change {
  return { seq: ++seq, id: object.id, type: object.type, op, object };
}

/** A Store that serves a fixed change log (only what the index and the server call). */
export class ChangeLogStore {
  readonly kind = 'fake';
  readonly log: Change[] = [];
  pingError: Error | undefined;
  statsCalls = 0;
  push(object: StixObject, op: Change['op'] = 'upsert'): Change {
    const c = { seq: this.log.length + 1, id: object.id, type: object.type, op, object };
    this.log.push(c);
    return c;
  }
  async changes(after: number, limit: number): Promise<ChangePage> {
    const changes = this.log.filter((c) => c.seq > after).slice(0, limit);
    return {
      changes,
      next: changes.length ? must(changes[changes.length - 1], 'changes[changes.length - 1]').seq : after,
    };
  }
  async head(): Promise<number> {
    return this.log.length;
  }
  async ping(): Promise<void> {
    if (this.pingError) throw this.pingError;
  }
  async stats(): Promise<StoreStats> {
    this.statsCalls++;
    const byType: Record<string, number> = {};
    for (const c of this.log) byType[c.type] = (byType[c.type] ?? 0) + 1;
    return { objects: this.log.length, byType, revoked: 0, expired: 0, changeLogHead: this.log.length, cursors: {} };
  }
  asStore(): Store {
    return this as unknown as Store;
  }
}

/** Indicator `i`'s pattern of one of nine listing kinds, and a value that hits it (exact, parent domain, CIDR, hash...). */
export function patternOf(i: number): { pattern: string; probe: string } {
  switch (i % 9) {
    case 0:
      return {
        pattern: `[ipv4-addr:value = '10.${(i >> 8) & 255}.${i & 255}.7']`,
        probe: `10.${(i >> 8) & 255}.${i & 255}.7`,
      };
    case 1:
      return {
        pattern: `[domain-name:value = 'h${i}.evil-${i % 13}.example']`,
        probe: `a.h${i}.evil-${i % 13}.example`,
      };
    case 2:
      return { pattern: `[url:value = 'http://s${i}.example.net/p/${i}']`, probe: `http://s${i}.example.net/p/${i}` };
    case 3:
      return {
        pattern: `[file:hashes.'SHA-256' = '${createHash('sha256').update(String(i)).digest('hex')}']`,
        probe: createHash('sha256').update(String(i)).digest('hex'),
      };
    case 4:
      return { pattern: `[ipv4-addr:value = '172.${i & 255}.0.0/16']`, probe: `172.${i & 255}.9.9` };
    case 5:
      return {
        pattern: `[ipv6-addr:value = '2001:db8:${(i & 0xffff).toString(16)}::/48']`,
        probe: `2001:db8:${(i & 0xffff).toString(16)}::1`,
      };
    case 6:
      return { pattern: `[email-addr:value = 'u${i}@mail.example']`, probe: `u${i}@mail.example` };
    case 7:
      return {
        pattern: `[ipv6-addr:value = '2001:db8::${(i & 0xffff).toString(16)}']`,
        probe: `2001:db8::${(i & 0xffff).toString(16)}`,
      };
    default:
      return {
        pattern: `[domain-name:value = 'm${i}.example' OR ipv4-addr:value = '192.0.2.${i & 255}' OR ipv4-addr:value = '198.51.${i & 255}.0/24']`,
        probe: `198.51.${i & 255}.77`,
      };
  }
}
