import type { StixObject } from '../../src/core/stix.js';
import type { RelatedOptions } from '../../src/correlate/index.js';
import { bump, ind, rel, report, sco, sdo, sid } from './fixtures.js';

/**
 * One input and one list of questions for every correlation index: the embedded (SQLite) index
 * and the shared OpenSearch links index must answer each question identically. The input covers
 * every derivation, updates and revocations, and a value past the fan-out cap (`CASES_CAP`).
 */
export const CASES_CAP = 5;

const I = (n: number) => sid('indicator', n);

const mal = sdo('malware', 1, 'Emotet', 'green', { is_family: true });
const qak = sdo('malware', 2, 'QakBot', 'green', { is_family: true });
const actor = sdo('threat-actor', 1, 'TA542');
const amberActor = sdo('threat-actor', 2, 'Hidden', 'amber');
const ip = sco('ipv4-addr', 1, '203.0.113.9');
const ip2 = sco('ipv4-addr', 2, '203.0.113.10');
const dom2 = sco('domain-name', 4, 'c3.example');
const resolves = rel(20, dom2.id, 'resolves-to', ip2.id);
const revokedLater = ind(30, "[ipv4-addr:value = '198.51.100.50']");
const rep = report(1, [I(1), I(2), mal.id]);

/** Batches of objects, ingested in order (each batch one upsert). */
export const CASE_BATCHES: StixObject[][] = [
  [
    // explicit links
    ind(1, "[ipv4-addr:value = '203.0.113.1']"),
    ind(2, "[domain-name:value = 'bad.example']"),
    mal,
    actor,
    amberActor,
    rel(1, I(1), 'indicates', mal.id),
    rel(2, mal.id, 'attributed-to', actor.id),
    rel(3, mal.id, 'attributed-to', amberActor.id),
    rep,
    // same value: an indicator and an SCO, two indicators
    ind(3, "[ipv4-addr:value = '198.51.100.7']"),
    sco('ipv4-addr', 10, '198.51.100.7'),
    ind(4, "[ipv4-addr:value = '198.51.100.7']"),
  ],
  [
    // inside-cidr, both orders, IPv4 and IPv6
    ind(5, "[ipv4-addr:value = '192.0.2.0/24']"),
    ind(6, "[ipv4-addr:value = '192.0.2.77']"),
    ind(7, "[ipv6-addr:value = '2001:db8::/32']"),
    ind(8, "[ipv6-addr:value = '2001:db8:0:0::1']"),
    // on-domain
    ind(9, "[url:value = 'http://a.evil.example/x']"),
    ind(10, "[domain-name:value = 'evil.example']"),
    ind(11, "[url:value = 'https://evil.example/y?z=1']"),
  ],
  [
    // resolves-to through resolves_to_refs and through a relationship arriving first
    ind(12, "[domain-name:value = 'c2.example']"),
    ind(13, "[ipv4-addr:value = '203.0.113.9']"),
    ip,
    sco('domain-name', 3, 'c2.example', { resolves_to_refs: [ip.id] }),
    resolves,
    ind(14, "[domain-name:value = 'c3.example']"),
  ],
  [
    ip2,
    dom2,
    ind(15, "[ipv4-addr:value = '203.0.113.10']"),
    // shares-malware
    qak,
    ind(16, "[file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e']"),
    ind(17, "[file:hashes.'SHA-256' = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855']"),
    ind(18, "[url:value = 'http://qak.example/x']"),
    rel(4, I(16), 'indicates', qak.id),
    rel(5, I(17), 'indicates', qak.id),
    rel(6, I(18), 'indicates', qak.id),
    revokedLater,
    ind(31, "[ipv4-addr:value = '198.51.100.50']"),
  ],
  [
    // fan-out: one value held by more indicators than the cap; a range over more addresses than the cap
    ...Array.from({ length: CASES_CAP + 4 }, (_, i) => ind(100 + i, "[ipv4-addr:value = '192.0.2.200']")),
    ...Array.from({ length: CASES_CAP + 3 }, (_, i) => ind(200 + i, `[ipv4-addr:value = '10.9.8.${i + 1}']`)),
    ind(250, "[ipv4-addr:value = '10.9.8.0/24']"),
  ],
  [
    // updates: a revocation, a report losing a member, a relationship revoked
    bump(revokedLater, { revoked: true }),
    bump(rep, { object_refs: [I(1), mal.id] }),
    bump(resolves, { revoked: true }),
  ],
];

/** The questions: [subject, options]. */
export const CASE_QUERIES: [string, RelatedOptions][] = [
  ...[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 31, 100, 108, 200, 250].map(
    (n): [string, RelatedOptions] => [I(n), {}],
  ),
  [I(1), { depth: 2 }],
  [I(1), { depth: 2, types: ['threat-actor'] }],
  [I(1), { depth: 2, maxTlp: 'green' }],
  [I(1), { depth: 2, maxTlp: 'amber' }],
  [I(16), { depth: 2 }],
  [I(100), { depth: 2, limit: 3 }],
  [I(250), { depth: 2 }],
  [mal.id, { depth: 2 }],
  [qak.id, {}],
  [rep.id, { depth: 2, limit: 2 }],
  [I(999), {}],
];

/** Ids whose summaries (`relatedSummary`) are compared. */
export const CASE_SUMMARIES: string[] = [I(1), I(16), mal.id, rep.id, I(999)];
