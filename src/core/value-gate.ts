import { errorMessage } from './errors.js';
/**
 * The one validity gate every mapped object passes before the store, whatever format it came
 * from (size caps, text rules, one canonical form per value). It checks the values an object carries, with the same
 * normalisers the mappers use:
 *
 * - observable SCOs (`ipv4-addr`, `ipv6-addr`, `domain-name`, `url`, `email-addr`): `value`;
 * - hashes of `file`, `artifact` and `x509-certificate` SCOs: hex of the exact length of their
 *   algorithm (SSDEEP and TLSH by their own syntax);
 * - STIX patterns: every string compared with `=`, `!=`, `IN` or `ISSUBSET` on an observable path
 *   (`ipv4-addr:value`, `file:hashes.MD5`, `network-traffic:dst_ref.value`, …);
 * - CIDR ranges: never /0 (the normaliser refuses it) and never wider than the source's minimum
 *   prefix (`min_prefix`);
 * - labels: 1-256 characters without control, bidi or unpaired-surrogate characters. A bad label
 *   is dropped from the object (and reported); a bad value rejects its object.
 *
 * Nothing that fails is stored: the runner counts each rejection by reason and keeps its location.
 */
import { parseCidr } from './cidr.js';
import type { Rejection } from './errors.js';
import { cleanText } from './domain-name.js';
import { detectObservable, normaliseObservable, quoteValue, type NormaliseResult } from './observable.js';
import { parsePattern, type ComparisonExpression, type ObservationExpression, type ObjectPath } from './pattern.js';
import type { Observable, ObservableType, StixObject } from './stix.js';
import { isHex } from './hex.js';
import { group } from './indexed.js';

export interface ValuePolicy {
  /** Widest IPv4 range accepted (a CIDR prefix shorter than this is rejected). */
  minPrefixIpv4: number;
  /** Widest IPv6 range accepted. */
  minPrefixIpv6: number;
}

export const DEFAULT_VALUE_POLICY: ValuePolicy = { minPrefixIpv4: 8, minPrefixIpv6: 16 };
/** Validity only (any range but /0): what mappers check; the width policy is the source's, applied by the runner. */
export const VALIDITY_POLICY: ValuePolicy = { minPrefixIpv4: 1, minPrefixIpv6: 1 };

export const MAX_LABEL_LENGTH = 256;

export type GateResult =
  | { ok: true; object: StixObject; rejections: Rejection[] }
  | { ok: false; rejection: Rejection };

type Problem = { reason: string; message: string };

/** Hex digest lengths by algorithm key (upper case, without `-` and `_`). */
const HEX_LENGTH: Record<string, number> = {
  MD5: 32,
  SHA1: 40,
  SHA224: 56,
  SHA256: 64,
  SHA384: 96,
  SHA512: 128,
  SHA3224: 56,
  SHA3256: 64,
  SHA3384: 96,
  SHA3512: 128,
  SHA512224: 56,
  SHA512256: 64,
};
/** SSDEEP: `blocksize:hash:hash` with base64 hashes (at most 64 characters each). */
const SSDEEP_RE = /^[1-9][0-9]{0,9}:[A-Za-z0-9+/]{1,64}:[A-Za-z0-9+/]{1,64}(?:,"[^"\n]{0,255}")?$/;
/** TLSH: 70 or 72 hex digits, optionally `T1`-prefixed. */
const TLSH_RE = /^(?:T1)?[0-9A-Fa-f]{70}(?:[0-9A-Fa-f]{2})?$/;
const MAX_OTHER_HASH_LENGTH = 1024;

/** Checks one hash value against its algorithm; undefined when valid. */
export function hashProblem(algorithm: string, value: unknown): Problem | undefined {
  const alg = algorithm.toUpperCase().replace(/[-_]/g, '');
  const bad = (why: string): Problem => ({
    reason: 'invalid_hash',
    message: `invalid ${algorithm.slice(0, 40)} hash (${why}): ${quoteValue(String(value))}`,
  });
  if (typeof value !== 'string') return bad('not a string');
  const want = HEX_LENGTH[alg];
  if (want !== undefined) {
    if (value.length !== want) return bad(`expected ${want} hex digits, got ${value.length} characters`);
    return isHex(value) ? undefined : bad('not hexadecimal');
  }
  if (alg === 'SSDEEP') return SSDEEP_RE.test(value) ? undefined : bad('not blocksize:hash:hash');
  if (alg === 'TLSH') return TLSH_RE.test(value) ? undefined : bad('expected 70 or 72 hex digits');
  if (value.length === 0 || value.length > MAX_OTHER_HASH_LENGTH)
    return bad(`empty or longer than ${MAX_OTHER_HASH_LENGTH} characters`);
  return cleanText(value).ok ? undefined : bad('control characters');
}

/** The policy check on a normalised observable (CIDR width); undefined when acceptable. */
export function policyProblem(o: Observable, policy: ValuePolicy): Problem | undefined {
  const range = o.cidr ? parseCidr(o.value) : undefined;
  if (!range) return undefined;
  const min = range.v === 6 ? policy.minPrefixIpv6 : policy.minPrefixIpv4;
  if (range.len < min)
    return {
      reason: 'cidr_too_wide',
      message: `range ${quoteValue(o.value)} is wider than the minimum prefix /${min}`,
    };
  return undefined;
}

/** A normalisation result through the policy: a Problem, or undefined when the value is acceptable. */
function resultProblem(r: NormaliseResult, policy: ValuePolicy): Problem | undefined {
  if (!r.ok) return { reason: r.reason, message: r.message };
  return policyProblem(r.observable, policy);
}

/** Checks one value of a known observable type, as the gate does. */
export function valueProblem(
  type: ObservableType,
  raw: string,
  policy: ValuePolicy = DEFAULT_VALUE_POLICY,
): Problem | undefined {
  return resultProblem(normaliseObservable(type, raw), policy);
}

const VALUE_SCOS = new Set<string>(['ipv4-addr', 'ipv6-addr', 'domain-name', 'url', 'email-addr']);
const HASH_SCOS = new Set<string>(['file', 'artifact', 'x509-certificate']);

/** A value on a network-traffic endpoint: an IP address, range or domain name. */
function endpointProblem(v: string, policy: ValuePolicy): Problem | undefined {
  const r = detectObservable(v);
  if (
    r.ok &&
    r.observable.type !== 'ipv4-addr' &&
    r.observable.type !== 'ipv6-addr' &&
    r.observable.type !== 'domain-name'
  ) {
    return {
      reason: 'invalid_endpoint',
      message: `network-traffic endpoint is a ${r.observable.type}, not an address or domain: ${quoteValue(v)}`,
    };
  }
  return resultProblem(r, policy);
}

/** How the string literals compared on a path are checked, or undefined for paths without rules. */
function checkerFor(path: ObjectPath, policy: ValuePolicy): ((v: string) => Problem | undefined) | undefined {
  const s = path.steps;
  const keys = s.map((x) => (x.kind === 'key' ? x.name : '[*]'));
  // `file:hashes.MD5`, `email-message:body_multipart[*].body_raw_ref.hashes.'SHA-256'`, …
  const alg = keys[keys.length - 1];
  if (alg !== undefined && keys[keys.length - 2] === 'hashes' && alg !== '[*]') {
    return (v) => hashProblem(alg, v);
  }
  if (keys.length === 1 && keys[0] === 'value' && VALUE_SCOS.has(path.objectType)) {
    return (v) => valueProblem(path.objectType as ObservableType, v, policy);
  }
  if (
    path.objectType === 'email-message' &&
    keys.length === 2 &&
    (keys[0] === 'from_ref' || keys[0] === 'sender_ref') &&
    keys[1] === 'value'
  ) {
    return (v) => valueProblem('email-addr', v, policy);
  }
  if (
    path.objectType === 'network-traffic' &&
    keys.length === 2 &&
    (keys[0] === 'dst_ref' || keys[0] === 'src_ref') &&
    keys[1] === 'value'
  ) {
    return (v) => endpointProblem(v, policy);
  }
  if (path.objectType === 'domain-name' && keys.length === 3 && keys[0] === 'resolves_to_refs' && keys[2] === 'value') {
    return (v) => endpointProblem(v, policy);
  }
  return undefined;
}

function comparisonProblem(c: ComparisonExpression, policy: ValuePolicy): Problem | undefined {
  if (c.kind === 'comparison-op') {
    for (const o of c.operands) {
      const p = comparisonProblem(o, policy);
      if (p) return p;
    }
    return undefined;
  }
  if (c.kind !== 'comparison') return undefined;
  if (c.operator !== '=' && c.operator !== '!=' && c.operator !== 'IN' && c.operator !== 'ISSUBSET') return undefined;
  const check = checkerFor(c.path, policy);
  if (!check) return undefined;
  for (const lit of Array.isArray(c.value) ? c.value : [c.value]) {
    if (lit.kind !== 'string') continue;
    const p = check(lit.value);
    if (p) return p;
  }
  return undefined;
}

function observationProblem(e: ObservationExpression, policy: ValuePolicy): Problem | undefined {
  if (e.kind === 'observation') return comparisonProblem(e.comparison, policy);
  for (const o of e.operands) {
    const p = observationProblem(o, policy);
    if (p) return p;
  }
  return undefined;
}

/** One comparison as patternFor writes it (the hot ingest case): checked without parsing. Linear regexes. */
const SIMPLE_VALUE_RE = /^\[(ipv4-addr|ipv6-addr|domain-name|url|email-addr):value = '([^'\\]*)'\]$/;
const SIMPLE_HASH_RE = /^\[(?:file|x509-certificate):hashes\.(MD5|'SHA-1'|'SHA-256'|'SHA-512') = '([^'\\]*)'\]$/;

/** The first invalid value compared in a STIX pattern; a pattern that does not parse is `pattern_invalid`. */
export function patternProblem(pattern: string, policy: ValuePolicy = DEFAULT_VALUE_POLICY): Problem | undefined {
  if (pattern.length < 4096) {
    const v = SIMPLE_VALUE_RE.exec(pattern);
    if (v) return valueProblem(group(v, 1) as ObservableType, group(v, 2), policy); // the pattern admits these types only
    const h = SIMPLE_HASH_RE.exec(pattern);
    if (h) return hashProblem(group(h, 1).replace(/'/g, ''), group(h, 2));
  }
  let ast: ObservationExpression;
  try {
    ast = parsePattern(pattern);
  } catch (e) {
    return { reason: 'pattern_invalid', message: `pattern does not parse: ${errorMessage(e).slice(0, 200)}` };
  }
  return observationProblem(ast, policy);
}

/** The first invalid value of an object (SCO value, hashes, indicator pattern); undefined when valid. */
export function objectValueProblem(obj: StixObject, policy: ValuePolicy = DEFAULT_VALUE_POLICY): Problem | undefined {
  if (VALUE_SCOS.has(obj.type)) {
    if (typeof obj.value !== 'string') return { reason: 'invalid_value', message: `${obj.type} value is not a string` };
    return valueProblem(obj.type as ObservableType, obj.value, policy);
  }
  if (HASH_SCOS.has(obj.type) && obj.hashes !== undefined) {
    const h = obj.hashes;
    if (h === null || typeof h !== 'object' || Array.isArray(h))
      return { reason: 'invalid_hash', message: `${obj.type} hashes is not an object` };
    for (const [alg, v] of Object.entries(h)) {
      const p = hashProblem(alg, v);
      if (p) return p;
    }
  }
  if (obj.type === 'indicator' && obj.pattern_type === 'stix') {
    if (typeof obj.pattern !== 'string')
      return { reason: 'pattern_invalid', message: 'indicator pattern is not a string' };
    return patternProblem(obj.pattern, policy);
  }
  return undefined;
}

/** Why a label is not acceptable, or undefined. */
export function labelProblem(label: unknown): Problem | undefined {
  if (typeof label !== 'string') return { reason: 'invalid_label', message: 'label is not a string' };
  if (label.length === 0 || label.length > MAX_LABEL_LENGTH)
    return {
      reason: 'invalid_label',
      message: `label is empty or longer than ${MAX_LABEL_LENGTH} characters: ${quoteValue(label)}`,
    };
  if (!cleanText(label).ok)
    return {
      reason: 'invalid_label',
      message: `label contains control, bidi or invalid UTF-16 characters: ${quoteValue(label)}`,
    };
  return undefined;
}

/**
 * The gate: the object when its values are valid (a copy without the labels that are not, each
 * reported), or the rejection of the whole object. `location` is added to every rejection.
 */
export function gateObject(
  obj: StixObject,
  policy: ValuePolicy = DEFAULT_VALUE_POLICY,
  location: Rejection['location'] = {},
): GateResult {
  const where = { ...location, ...(typeof obj.id === 'string' ? { objectId: obj.id.slice(0, 120) } : {}) };
  const p = objectValueProblem(obj, policy);
  if (p) return { ok: false, rejection: { reason: p.reason, message: p.message, location: where } };
  if (obj.labels === undefined) return { ok: true, object: obj, rejections: [] };
  if (!Array.isArray(obj.labels))
    return { ok: false, rejection: { reason: 'invalid_label', message: 'labels is not a list', location: where } };
  const rejections: Rejection[] = [];
  const kept: string[] = [];
  for (const l of obj.labels) {
    const lp = labelProblem(l);
    if (lp) rejections.push({ reason: lp.reason, message: lp.message, location: where });
    else kept.push(l as string);
  }
  if (rejections.length === 0) return { ok: true, object: obj, rejections };
  const copy: StixObject = { ...obj };
  if (kept.length > 0) copy.labels = kept;
  else delete copy.labels;
  return { ok: true, object: copy, rejections };
}
