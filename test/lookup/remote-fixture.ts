/**
 * The shared fixture of the remote lookups: one change log of every listing kind (exact values,
 * IPv4 / IPv6 CIDRs, parent domains, URLs, hashes, shared values, mixed TLPs, expiry, revocations),
 * the probes to look up, and an in-memory CandidateSource over it (the unit tests); the
 * integration test stores the same objects in OpenSearch.
 */
import { indicatorObservables } from '../../src/core/object-observables.js';
import type { Indicator, StixObject, TlpLevel } from '../../src/core/stix.js';
import type { Change } from '../../src/store/contract.js';
import type { Candidate, CandidateSource } from '../../src/lookup/remote/source.js';
import { T0, indicator, patternOf } from './fixtures.js';

export const LEVELS: TlpLevel[] = ['clear', 'green', 'amber', 'red'];

/** The objects of the fixture in order; the last ones revoke or expire earlier ones. */
export function fixtureObjects(n: number): { objects: StixObject[]; probes: string[] } {
  const objects: StixObject[] = [];
  const probes: string[] = [
    'no-such.example',
    '203.0.113.200',
    'http://nothing.example/',
    'not a value at all',
    '172.5.0.0/24',
    '172.5.0.0/8',
    '2001:db8:5::/64',
    'http://172.4.1.1/x',
    'http://[2001:db8:5::9]/y',
    'deep.a.h1.evil-1.example',
    'http://a.h10.evil-10.example/z',
  ];
  for (let i = 1; i <= n; i++) {
    const { pattern, probe } = patternOf(i);
    probes.push(probe);
    const mixed = i % 17 === 0;
    objects.push(
      indicator({
        n: i,
        pattern,
        tlp: LEVELS[i % 3],
        score: i % 101,
        labels: i % 5 === 0 ? ['botnet', `fam-${i % 4}`] : undefined,
        validUntil: i % 11 === 0 ? T0 + 86_400_000 : undefined,
        sources: mixed
          ? {
              open: { first_seen: '2026-01-02T00:00:00.000Z', last_seen: '2026-02-01T00:00:00.000Z', tlp: 'clear' },
              closed: { first_seen: '2025-12-01T00:00:00.000Z', last_seen: '2026-02-20T00:00:00.000Z', tlp: 'red' },
            }
          : undefined,
      }),
    );
  }
  objects.push(indicator({ n: n + 1, pattern: "[ipv4-addr:value = '10.200.0.1']" }));
  objects.push(indicator({ n: n + 3, pattern: "[ipv4-addr:value = '10.200.0.1']", tlp: 'clear' }));
  probes.push('10.200.0.1');
  for (let i = 3; i <= n; i += 29) {
    const gone = indicator({ n: i, pattern: patternOf(i).pattern });
    if (i % 2 === 0) gone.revoked = true;
    else if (gone.x_stixgate) gone.x_stixgate.expired = true;
    objects.push(gone);
  }
  return { objects, probes };
}

export function opOf(o: StixObject): Change['op'] {
  return o.revoked === true ? 'revoke' : o.x_stixgate?.expired === true ? 'expire' : 'upsert';
}

/** The latest state of every indicator pushed, answering candidate queries like the OpenSearch store. */
export class MemoryCandidates implements CandidateSource {
  calls = 0;
  private readonly latest = new Map<string, Change>();
  private seq = 0;

  push(object: StixObject): Change {
    const c: Change = { seq: ++this.seq, id: object.id, type: object.type, op: opOf(object), object };
    this.latest.set(object.id, c);
    return c;
  }

  async candidates(values: readonly string[], limit: number): Promise<Candidate[]> {
    this.calls++;
    const want = new Set(values);
    const out: Candidate[] = [];
    for (const c of this.latest.values()) {
      if (c.op !== 'upsert' || c.type !== 'indicator') continue;
      const observables = indicatorObservables(c.object as Indicator);
      if (!observables.some((o) => want.has(o.value))) continue;
      const json = JSON.stringify(c.object);
      out.push({ id: c.id, seq: c.seq, object: JSON.parse(json) as StixObject, observables, bytes: json.length });
    }
    return out.sort((a, b) => a.seq - b.seq).slice(0, limit);
  }
}
