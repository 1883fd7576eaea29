/**
 * One MISP attribute value → STIX observable objects and the comparison expressions of its
 * pattern, by the rule of its type in the table. Pure.
 */
import { normaliseHash, normaliseObservable } from '../../src/core/observable.js';
import { hashProblem } from '../../src/core/value-gate.js';
import { escapePatternString } from '../../src/core/pattern.js';
import { observableScoId, scoId } from '../../src/core/ids.js';
import type { HashAlgorithm, Observable, StixObject } from '../../src/core/stix.js';
import { type AttributeRule, param } from './table.js';

export interface ObservableOut {
  ok: true;
  /** SCOs (deterministic ids), the main one first. */
  scos: StixObject[];
  /** Comparison expressions joined by AND in one observation. */
  comparisons: string[];
  /** Canonical indexable observables the value yielded (for the oracle comparison and tests). */
  observables: Observable[];
}
export type AttributeOut = ObservableOut | { ok: false; reason: string; message: string } | { ok: 'context' };

const CORE_HASHES: Record<string, HashAlgorithm> = {
  MD5: 'MD5',
  'SHA-1': 'SHA-1',
  'SHA-256': 'SHA-256',
  'SHA-512': 'SHA-512',
};
const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;
const HEX = /^[0-9a-f]+$/;

function lit(v: string): string {
  return `'${escapePatternString(v)}'`;
}
function hashKey(alg: string): string {
  return IDENT.test(alg) ? alg : `'${alg}'`;
}
function sco(type: string, props: Record<string, unknown>, contributing: Record<string, unknown>): StixObject {
  return { type, spec_version: '2.1', id: scoId(type, contributing), ...props };
}
function obsSco(o: Observable, extra: Record<string, unknown> = {}): StixObject {
  const id = observableScoId(o); // a file or certificate observable without its hash algorithm throws here
  if ((o.type === 'file' || o.type === 'x509-certificate') && o.hash !== undefined)
    return { type: o.type, spec_version: '2.1', id, hashes: { [o.hash]: o.value }, ...extra };
  return { type: o.type, spec_version: '2.1', id, value: o.value, ...extra };
}
function fail(reason: string, message: string): AttributeOut {
  return { ok: false, reason, message };
}

const HIVES: Record<string, string> = {
  HKLM: 'HKEY_LOCAL_MACHINE',
  HKCU: 'HKEY_CURRENT_USER',
  HKCR: 'HKEY_CLASSES_ROOT',
  HKU: 'HKEY_USERS',
  HKCC: 'HKEY_CURRENT_CONFIG',
};

/** `HKLM\\…` → `HKEY_LOCAL_MACHINE\\…` (STIX 2.1 §6.13 wants full hive names). */
export function expandHive(key: string): string {
  const i = key.indexOf('\\');
  const head = (i < 0 ? key : key.slice(0, i)).toUpperCase();
  const full = HIVES[head];
  return full ? full + (i < 0 ? '' : key.slice(i)) : key;
}

/**
 * A deterministic id for an SCO without id-contributing properties (an email-message with only
 * recipients): the spec wants a UUIDv4 there, so the name-based UUID is stamped version 4.
 */
function v4Like(type: string, props: Record<string, unknown>): string {
  const v5 = scoId(type, props);
  const i = type.length + 2 + 14;
  return `${v5.slice(0, i)}4${v5.slice(i + 1)}`;
}

/** Splits a composite `a|b` value at the first `|` (MISP's own rule). */
function split2(value: string): [string, string] | undefined {
  const i = value.indexOf('|');
  if (i <= 0 || i === value.length - 1) return undefined;
  return [value.slice(0, i).trim(), value.slice(i + 1).trim()];
}

function ip(raw: string): { ok: true; o: Observable } | { ok: false; reason: string; message: string } {
  const r = normaliseObservable(raw.includes(':') ? 'ipv6-addr' : 'ipv4-addr', raw);
  return r.ok ? { ok: true, o: r.observable } : r;
}

function port(raw: string): number | undefined {
  const p = Number(raw);
  return /^\d{1,5}$/.test(raw) && p > 0 && p < 65536 ? p : undefined;
}

/** A hash of any algorithm in the table: the four indexed ones are normalised, the others checked and kept (hex lower-cased). */
function hashValue(
  alg: string,
  raw: string,
  on: 'file' | 'x509-certificate',
): { ok: true; o?: Observable; value: string } | { ok: false; reason: string; message: string } {
  const core = CORE_HASHES[alg];
  if (core) {
    const r = normaliseHash(on, raw, core);
    return r.ok ? { ok: true, o: r.observable, value: r.observable.value } : r;
  }
  const v = raw.trim();
  // the value gate's rule for the algorithm (hex length, SSDEEP and TLSH syntax)
  const bad = hashProblem(alg, v);
  if (bad) return { ok: false, reason: bad.reason, message: bad.message };
  const lower = v.toLowerCase();
  return { ok: true, value: HEX.test(lower) ? lower : v };
}

export function mapAttributeValue(rule: AttributeRule, value: string): AttributeOut {
  switch (rule.handler) {
    case 'context':
    case 'rule': // rules and SDOs are made by map.ts, not from observables
    case 'sdo':
      return { ok: 'context' };
    case 'ip': {
      const r = ip(value);
      if (!r.ok) return r;
      return {
        ok: true,
        scos: [obsSco(r.o)],
        comparisons: [`${r.o.type}:value = ${lit(r.o.value)}`],
        observables: [r.o],
      };
    }
    case 'ip_port': {
      const parts = split2(value);
      const p = parts && port(parts[1]);
      if (!parts || p === undefined)
        return fail('invalid_value', `${rule.side} "ip|port" value needs an address and a port 1-65535`);
      const r = ip(parts[0]);
      if (!r.ok) return r;
      const addr = obsSco(r.o);
      const side = rule.side ?? 'dst';
      const nt = sco(
        'network-traffic',
        { [`${side}_ref`]: addr.id, [`${side}_port`]: p, protocols: ['tcp'] },
        { [`${side}_ref`]: addr.id, [`${side}_port`]: p, protocols: ['tcp'] },
      );
      return {
        ok: true,
        scos: [nt, addr],
        observables: [r.o],
        comparisons: [
          `network-traffic:${side}_ref.type = ${lit(r.o.type)}`,
          `network-traffic:${side}_ref.value = ${lit(r.o.value)}`,
          `network-traffic:${side}_port = ${p}`,
        ],
      };
    }
    case 'domain':
    case 'url': {
      const r = normaliseObservable(rule.handler === 'url' ? 'url' : 'domain-name', value);
      if (!r.ok) return r;
      return {
        ok: true,
        scos: [obsSco(r.observable)],
        comparisons: [`${r.observable.type}:value = ${lit(r.observable.value)}`],
        observables: [r.observable],
      };
    }
    case 'domain_ip': {
      const parts = split2(value);
      if (!parts) return fail('invalid_value', '"domain|ip" value needs a domain and an address');
      const d = normaliseObservable('domain-name', parts[0]);
      if (!d.ok) return d;
      const r = ip(parts[1]);
      if (!r.ok) return r;
      const addr = obsSco(r.o);
      return {
        ok: true,
        scos: [obsSco(d.observable, { resolves_to_refs: [addr.id] }), addr],
        observables: [d.observable, r.o],
        comparisons: [
          `domain-name:value = ${lit(d.observable.value)}`,
          `domain-name:resolves_to_refs[*].value = ${lit(r.o.value)}`,
        ],
      };
    }
    case 'host_port': {
      const parts = split2(value);
      const p = parts && port(parts[1]);
      if (!parts || p === undefined)
        return fail('invalid_value', '"hostname|port" value needs a host name and a port 1-65535');
      const d = normaliseObservable('domain-name', parts[0]);
      if (!d.ok) return d;
      const host = obsSco(d.observable);
      const nt = sco(
        'network-traffic',
        { dst_ref: host.id, dst_port: p, protocols: ['tcp'] },
        { dst_ref: host.id, dst_port: p, protocols: ['tcp'] },
      );
      return {
        ok: true,
        scos: [host, nt],
        observables: [d.observable],
        comparisons: [
          `network-traffic:dst_ref.type = 'domain-name'`,
          `network-traffic:dst_ref.value = ${lit(d.observable.value)}`,
          `network-traffic:dst_port = ${p}`,
        ],
      };
    }
    case 'email': {
      const r = normaliseObservable('email-addr', value);
      if (!r.ok) return r;
      const addr = obsSco(r.observable);
      const v = lit(r.observable.value);
      if (rule.role === 'addr')
        return { ok: true, scos: [addr], comparisons: [`email-addr:value = ${v}`], observables: [r.observable] };
      const ref =
        rule.role === 'from'
          ? { from_ref: addr.id }
          : rule.role === 'to'
            ? { to_refs: [addr.id] }
            : { additional_header_fields: { 'Reply-To': r.observable.value } };
      const msg: StixObject =
        rule.role === 'from'
          ? sco('email-message', { is_multipart: false, ...ref }, ref)
          : {
              type: 'email-message',
              spec_version: '2.1',
              id: v4Like('email-message', ref),
              is_multipart: false,
              ...ref,
            };
      const cmp =
        rule.role === 'from'
          ? `email-message:from_ref.value = ${v}`
          : rule.role === 'to'
            ? `email-message:to_refs[*].value = ${v}`
            : `email-message:additional_header_fields.'Reply-To' = ${v}`;
      return { ok: true, scos: [msg, addr], comparisons: [cmp], observables: [r.observable] };
    }
    case 'hash': {
      const on = rule.on ?? 'file';
      const alg = param(rule, 'algorithm');
      const h = hashValue(alg, value, on);
      if (!h.ok) return h;
      const hashes = { [alg]: h.value };
      const s = h.o ? obsSco(h.o) : sco(on, { hashes }, { hashes });
      return {
        ok: true,
        scos: [s],
        comparisons: [`${on}:hashes.${hashKey(alg)} = ${lit(h.value)}`],
        observables: h.o ? [h.o] : [],
      };
    }
    case 'filename_hash': {
      const parts = split2(value);
      if (!parts) return fail('invalid_value', '"filename|hash" value needs a file name and a hash');
      const alg = param(rule, 'algorithm');
      const h = hashValue(alg, parts[1], 'file');
      if (!h.ok) return h;
      const hashes = { [alg]: h.value };
      return {
        ok: true,
        scos: [sco('file', { hashes, name: parts[0] }, { hashes, name: parts[0] })],
        observables: h.o ? [h.o] : [],
        comparisons: [`file:name = ${lit(parts[0])}`, `file:hashes.${hashKey(alg)} = ${lit(h.value)}`],
      };
    }
    case 'sco': {
      const v = value.trim();
      if (v === '') return fail('empty', 'empty value');
      const type = param(rule, 'sco');
      const prop = param(rule, 'property');
      if (rule.integer) {
        const n = Number(v.replace(/^AS/i, ''));
        if (!Number.isInteger(n) || n < 0 || n > 4294967295)
          return fail('invalid_value', `${rule.sco}.${rule.property} must be an integer`);
        return {
          ok: true,
          scos: [sco(type, { [prop]: n }, { [prop]: n })],
          comparisons: [`${rule.sco}:${rule.property} = ${n}`],
          observables: [],
        };
      }
      const val =
        rule.sco === 'mac-addr'
          ? v.toLowerCase().replace(/-/g, ':')
          : rule.sco === 'windows-registry-key'
            ? expandHive(v)
            : v;
      return {
        ok: true,
        scos: [sco(type, { [prop]: val }, { [prop]: val })],
        comparisons: [`${rule.sco}:${rule.property} = ${lit(val)}`],
        observables: [],
      };
    }
    case 'regkey_value': {
      const parts = split2(value);
      if (!parts) return fail('invalid_value', '"regkey|value" needs a key and data');
      const key = expandHive(parts[0]);
      const props = { key, values: [{ data: parts[1] }] };
      return {
        ok: true,
        scos: [sco('windows-registry-key', props, props)],
        comparisons: [
          `windows-registry-key:key = ${lit(key)}`,
          `windows-registry-key:values[*].data = ${lit(parts[1])}`,
        ],
        observables: [],
      };
    }
  }
}
