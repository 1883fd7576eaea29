/**
 * Deterministic identifiers: RFC 4122 UUIDv5, STIX 2.1 SCO ids (§2.9) and stixgate's own ids.
 */
import { createHash, hash } from 'node:crypto';
import { canonicalize } from './canonical-json.js';
import { STIX_SCO_NAMESPACE, type Observable } from './stix.js';
import { canonicalPattern } from './pattern.js';

/**
 * The namespace of stixgate's own deterministic ids (indicators made from observables and other
 * objects stixgate creates). It is `uuidv5(RFC 4122 URL namespace, 'https://stixgate.dev/ns/stix')`,
 * fixed here so that it never changes; a test re-derives it.
 */
export const STIXGATE_NAMESPACE = '4af2a4e0-2449-5634-9224-3f6b875e77d5';

const UUID_RE = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const namespaceBytes = new Map<string, Buffer>();

function nsBytes(namespace: string): Buffer {
  let b = namespaceBytes.get(namespace);
  if (b === undefined) {
    if (!UUID_RE.test(namespace))
      throw new TypeError(`uuidv5: namespace ${JSON.stringify(namespace.slice(0, 40))} is not a UUID`);
    b = Buffer.from(namespace.replace(/-/g, ''), 'hex');
    if (namespaceBytes.size < 64) namespaceBytes.set(namespace, b);
  }
  return b;
}

const HEX: string[] = [];
for (let i = 0; i < 256; i++) HEX.push(i.toString(16).padStart(2, '0'));

/** Reused input buffer for the one-shot `crypto.hash` (several times faster than createHash per call). */
const scratch = Buffer.allocUnsafe(8192);

function sha1(ns: Buffer, name: string): Buffer {
  if (name.length * 3 + 16 > scratch.length) return createHash('sha1').update(ns).update(name, 'utf8').digest();
  ns.copy(scratch, 0);
  const len = scratch.write(name, 16, 'utf8');
  return hash('sha1', scratch.subarray(0, 16 + len), 'buffer');
}

/** RFC 4122 §4.3 name-based UUID, version 5 (SHA-1), over the UTF-8 bytes of `name`. */
export function uuidv5(namespace: string, name: string): string {
  const d = sha1(nsBytes(namespace), name);
  // a SHA-1 digest is 20 bytes, so bytes 0..15 exist, and HEX covers every byte value; a per-byte
  // table lookup is the fastest form measured
  const b6 = (d[6]! & 0x0f) | 0x50;
  const b8 = (d[8]! & 0x3f) | 0x80;
  return (
    `${HEX[d[0]!]}${HEX[d[1]!]}${HEX[d[2]!]}${HEX[d[3]!]}-` +
    `${HEX[d[4]!]}${HEX[d[5]!]}-${HEX[b6]}${HEX[d[7]!]}-${HEX[b8]}${HEX[d[9]!]}-` +
    `${HEX[d[10]!]}${HEX[d[11]!]}${HEX[d[12]!]}${HEX[d[13]!]}${HEX[d[14]!]}${HEX[d[15]!]}`
  );
}

/** Id-contributing properties of the SCO types (STIX 2.1 §6); types absent here hash all their properties. */
export const SCO_ID_PROPERTIES: Readonly<Record<string, readonly string[]>> = {
  file: ['hashes', 'name', 'extensions', 'parent_directory_ref'],
  directory: ['path'],
  'domain-name': ['value'],
  'ipv4-addr': ['value'],
  'ipv6-addr': ['value'],
  'mac-addr': ['value'],
  url: ['value'],
  'email-addr': ['value'],
  'email-message': ['from_ref', 'subject', 'body'],
  'network-traffic': ['start', 'end', 'src_ref', 'dst_ref', 'src_port', 'dst_port', 'protocols', 'extensions'],
  mutex: ['name'],
  'windows-registry-key': ['key', 'values'],
  'x509-certificate': ['hashes', 'serial_number'],
  'autonomous-system': ['number'],
  'user-account': ['account_type', 'user_id', 'account_login'],
  software: ['name', 'cpe', 'swid', 'vendor', 'version'],
  artifact: ['hashes', 'payload_bin'],
};

/** A STIX 2.1 SCO id (§2.9): UUIDv5 in the SCO namespace over the JCS form of the id-contributing properties. */
export function scoId(type: string, contributing: Record<string, unknown>): string {
  return `${type}--${uuidv5(STIX_SCO_NAMESPACE, canonicalize(contributing))}`;
}

/**
 * The SCO id of a canonical observable. Hash observables become `file` / `x509-certificate`
 * objects whose only id-contributing property is `hashes`, as python-stix2 computes them.
 */
export function observableScoId(o: Observable): string {
  if (o.type === 'file' || o.type === 'x509-certificate') {
    if (!o.hash) throw new TypeError(`observableScoId: a ${o.type} observable needs its hash algorithm`);
    return scoId(o.type, { hashes: { [o.hash]: o.value } });
  }
  return scoId(o.type, { value: o.value });
}

/** A stixgate-owned deterministic id: `${type}--${uuidv5(STIXGATE_NAMESPACE, key)}`. */
export function deterministicId(type: string, key: string): string {
  return `${type}--${uuidv5(STIXGATE_NAMESPACE, key)}`;
}

/** The id of the indicator for a pattern: whitespace and formatting variants share one id. */
export function indicatorIdForPattern(pattern: string): string {
  return deterministicId('indicator', canonicalPattern(pattern));
}
