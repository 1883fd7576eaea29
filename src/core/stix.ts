/**
 * STIX 2.1 types for the objects stixgate reads, stores and emits.
 * Only the properties the engine touches are typed; everything else rides along.
 */
import { at } from './indexed.js';

export const STIX_SCO_NAMESPACE = '00abedb4-aa42-466c-9c01-fed23315a9b7';

/** Observable kinds the engine normalises, indexes and matches. */
export type ObservableType =
  | 'ipv4-addr'
  | 'ipv6-addr'
  | 'domain-name'
  | 'url'
  | 'email-addr'
  | 'file' // a hash; see HashAlgorithm
  | 'x509-certificate'; // a certificate fingerprint (SHA-1 / SHA-256)

export const OBSERVABLE_TYPES: readonly ObservableType[] = [
  'ipv4-addr',
  'ipv6-addr',
  'domain-name',
  'url',
  'email-addr',
  'file',
  'x509-certificate',
];

const OBSERVABLE_TYPE_SET: ReadonlySet<string> = new Set(OBSERVABLE_TYPES);

/** True when `t` names one of the observable types stixgate indexes and pushes. */
export function isObservableType(t: string): t is ObservableType {
  return OBSERVABLE_TYPE_SET.has(t);
}

export type HashAlgorithm = 'MD5' | 'SHA-1' | 'SHA-256' | 'SHA-512';

/** A canonical observable value: what dedup, ids, patterns and the lookup index key on. */
export interface Observable {
  type: ObservableType;
  /** Canonical value. For CIDRs `1.2.3.0/24`, for hashes lower-case hex. */
  value: string;
  /** Set for `file` and `x509-certificate` observables. */
  hash?: HashAlgorithm;
  /** True when `value` is a network range (ipv4/ipv6 CIDR with a prefix shorter than the full length). */
  cidr?: boolean;
}

export interface ExternalReference {
  source_name: string;
  description?: string;
  url?: string;
  external_id?: string;
  hashes?: Record<string, string>;
}

export interface KillChainPhase {
  kill_chain_name: string;
  phase_name: string;
}

/** Per-source provenance kept by the store on every object it holds. */
export interface SourceProvenance {
  first_seen: string;
  last_seen: string;
  confidence?: number;
  labels?: string[];
  /** This contribution's TLP: the most restrictive the source delivered (src/access). */
  tlp?: TlpLevel;
  /** The least restrictive TLP the source ever delivered, when it differs from `tlp`. */
  released_tlp?: TlpLevel;
}

/** The `x_stixgate` custom property the store maintains. Mappers never set it. */
export interface StixgateExtension {
  sources: Record<string, SourceProvenance>;
  /** The sources whose delivered content is the stored content (views hide it when none is visible). */
  content_sources?: string[];
  score?: number;
  expired?: boolean;
  /** When `score` was last evaluated (decay is relative to it). */
  scored_at?: string;
  /** `valid_until` was derived from the decay model, not given by a source. */
  derived_valid_until?: boolean;
  /** The sources' valid_until, kept when the score's expiry came earlier and replaced it. */
  source_valid_until?: string;
  /** Stored expired on arrival and never active since: no sink ever received it (nothing to remove). */
  never_active?: boolean;
  /** Sightings reported through the API (docs/scoring.md). */
  sightings?: { count: number; first_seen: string; last_seen: string };
}

export interface StixObject {
  type: string;
  id: string;
  spec_version?: string;
  created?: string;
  modified?: string;
  created_by_ref?: string;
  revoked?: boolean;
  labels?: string[];
  confidence?: number;
  lang?: string;
  external_references?: ExternalReference[];
  object_marking_refs?: string[];
  granular_markings?: unknown[];
  extensions?: Record<string, unknown>;
  x_stixgate?: StixgateExtension;
  [key: string]: unknown;
}

export interface Indicator extends StixObject {
  type: 'indicator';
  name?: string;
  description?: string;
  indicator_types?: string[];
  pattern: string;
  pattern_type: string;
  pattern_version?: string;
  valid_from: string;
  valid_until?: string;
  kill_chain_phases?: KillChainPhase[];
}

/** An object of type `indicator` (its properties are the checker's and the mapper's to vouch for). */
export function isIndicator(o: StixObject): o is Indicator {
  return o.type === 'indicator';
}

export interface Relationship extends StixObject {
  type: 'relationship';
  relationship_type: string;
  source_ref: string;
  target_ref: string;
}

export interface Vulnerability extends StixObject {
  type: 'vulnerability';
  name: string;
  description?: string;
}

export interface Bundle {
  type: 'bundle';
  id: string;
  objects: StixObject[];
}

/** TLP levels, ordered from least to most restrictive. TLP 1.0 WHITE is CLEAR. */
export const TLP_LEVELS = ['clear', 'green', 'amber', 'amber+strict', 'red'] as const;
export type TlpLevel = (typeof TLP_LEVELS)[number];

export function tlpRank(level: TlpLevel): number {
  return TLP_LEVELS.indexOf(level);
}

/** True for the names of TLP_LEVELS (a stored or configured value checked before use). */
export function isTlpLevel(value: unknown): value is TlpLevel {
  return (TLP_LEVELS as readonly unknown[]).includes(value); // widened for the membership test only
}

/** The level of a rank from tlpRank; a rank outside 0..4 is a RangeError. */
export function tlpOfRank(rank: number): TlpLevel {
  return at(TLP_LEVELS, rank);
}

/** The marking-definition ids of TLP 1.0 (STIX 2.1 §7.2.1.4) and TLP 2.0 (OASIS extension). */
export const TLP_MARKING_IDS: Record<string, TlpLevel> = {
  // TLP 1.0, as defined in the STIX 2.1 specification
  'marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9': 'clear', // WHITE
  'marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da': 'green',
  'marking-definition--f88d31f6-486f-44da-b317-01333bde0b82': 'amber',
  'marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed': 'red',
  // TLP 2.0, from the OASIS TLP 2.0 marking extension
  'marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487': 'clear',
  'marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb': 'green',
  'marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421': 'amber',
  'marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003': 'amber+strict',
  'marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1': 'red',
};

/** The TLP 2.0 marking id used when stixgate writes a TLP marking itself. */
export const TLP_MARKING_BY_LEVEL: Record<TlpLevel, string> = {
  clear: 'marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487',
  green: 'marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb',
  amber: 'marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421',
  'amber+strict': 'marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003',
  red: 'marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1',
};

/**
 * The TLP of an object from its marking refs. No marking means `unmarked` (the source's
 * default applies); an unknown marking fails closed to red.
 */
export function tlpOfMarkings(
  refs: readonly string[] | undefined,
  knownNonTlp: ReadonlySet<string> = new Set(),
): TlpLevel | undefined {
  if (!refs || refs.length === 0) return undefined;
  let worst: TlpLevel | undefined;
  for (const ref of refs) {
    const level = TLP_MARKING_IDS[ref] ?? (knownNonTlp.has(ref) ? undefined : 'red');
    if (level && (worst === undefined || tlpRank(level) > tlpRank(worst))) worst = level;
  }
  return worst;
}

export function parseTlp(text: string): TlpLevel | undefined {
  const t = text
    .trim()
    .toLowerCase()
    .replace(/^tlp[:\s-]*/, '');
  if (t === 'white' || t === 'clear') return 'clear';
  if (t === 'amber+strict' || t === 'amber strict') return 'amber+strict';
  if (t === 'green' || t === 'amber' || t === 'red') return t;
  return undefined;
}

const SCO_TYPES = new Set([
  'artifact',
  'autonomous-system',
  'directory',
  'domain-name',
  'email-addr',
  'email-message',
  'file',
  'ipv4-addr',
  'ipv6-addr',
  'mac-addr',
  'mutex',
  'network-traffic',
  'process',
  'software',
  'url',
  'user-account',
  'windows-registry-key',
  'x509-certificate',
]);

export function isSco(type: string): boolean {
  return SCO_TYPES.has(type);
}

/** A STIX timestamp (RFC 3339, UTC, `Z`) from epoch milliseconds. */
export function stixTime(ms: number): string {
  return new Date(ms).toISOString();
}
