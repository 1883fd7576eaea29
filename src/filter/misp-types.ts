/**
 * MISP attribute types (a warninglist's `matching_attributes`) → the observable kinds stixgate
 * checks. A composite type (`domain|ip`, `filename|md5`) applies to each of its parts, as in MISP.
 * Attribute types with no observable counterpart (phone numbers, ssdeep, sha224 …) apply to
 * nothing; a list made only of those is loaded but never matches (reported as inert).
 */
import type { HashAlgorithm, Observable } from '../core/stix.js';
import { detectHashAlgorithm } from '../core/observable.js';
import { entry } from '../core/indexed.js';

export const TYPE_KEYS = [
  'ipv4-addr',
  'ipv6-addr',
  'domain-name',
  'url',
  'email-addr',
  'file:MD5',
  'file:SHA-1',
  'file:SHA-256',
  'file:SHA-512',
  'x509-certificate:MD5',
  'x509-certificate:SHA-1',
  'x509-certificate:SHA-256',
] as const;
export type TypeKey = (typeof TYPE_KEYS)[number];

const IP: TypeKey[] = ['ipv4-addr', 'ipv6-addr'];
const EMAIL: TypeKey[] = ['email-addr'];

export const MISP_ATTRIBUTE_TYPES: Readonly<Record<string, readonly TypeKey[]>> = {
  'ip-src': IP,
  'ip-dst': IP,
  'ip-src|port': IP,
  'ip-dst|port': IP,
  'domain|ip': [...IP, 'domain-name'],
  domain: ['domain-name'],
  hostname: ['domain-name'],
  'hostname|port': ['domain-name'],
  url: ['url'],
  uri: ['url'],
  link: ['url'],
  email: EMAIL,
  'email-src': EMAIL,
  'email-dst': EMAIL,
  'target-email': EMAIL,
  'email-reply-to': EMAIL,
  'whois-registrant-email': EMAIL,
  'dns-soa-email': EMAIL,
  md5: ['file:MD5'],
  sha1: ['file:SHA-1'],
  sha256: ['file:SHA-256'],
  sha512: ['file:SHA-512'],
  'filename|md5': ['file:MD5'],
  'filename|sha1': ['file:SHA-1'],
  'filename|sha256': ['file:SHA-256'],
  'filename|sha512': ['file:SHA-512'],
  'malware-sample': ['file:MD5'],
  'x509-fingerprint-md5': ['x509-certificate:MD5'],
  'x509-fingerprint-sha1': ['x509-certificate:SHA-1'],
  'x509-fingerprint-sha256': ['x509-certificate:SHA-256'],
};

const BIT = new Map<string, number>(TYPE_KEYS.map((k, i) => [k, 1 << i]));

/** True when `k` is one of the type keys lists are matched by. */
export function isTypeKey(k: string): k is TypeKey {
  return BIT.has(k);
}
export const ALL_TYPES_MASK = (1 << TYPE_KEYS.length) - 1;

export function bitOf(key: TypeKey): number {
  return entry(BIT, key);
}

/** The type mask for a list's `matching_attributes` (empty: every type, as in MISP). */
export function maskForAttributes(attributes: readonly string[]): number {
  if (attributes.length === 0) return ALL_TYPES_MASK;
  let mask = 0;
  for (const a of attributes) for (const k of MISP_ATTRIBUTE_TYPES[a.toLowerCase()] ?? []) mask |= bitOf(k);
  return mask;
}

/** The type key of an observable; undefined for a hash of unknown algorithm. */
export function typeKeyOf(o: Observable): TypeKey | undefined {
  if (o.type === 'file' || o.type === 'x509-certificate') {
    const alg: HashAlgorithm | undefined = o.hash ?? detectHashAlgorithm(o.value);
    const key = alg === undefined ? undefined : `${o.type}:${alg}`;
    return key !== undefined && isTypeKey(key) ? key : undefined;
  }
  return o.type;
}

export function typesOfMask(mask: number): TypeKey[] {
  return TYPE_KEYS.filter((k) => (mask & bitOf(k)) !== 0);
}
