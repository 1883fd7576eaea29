/**
 * CybOX object facts (observed instances, not patterns) → STIX 2.1 SCOs with deterministic ids
 * (STIX 2.1 §2.9: UUIDv5 over the id-contributing properties).
 */
import { at, first, last } from '../../src/core/indexed.js';
import { SCO_ID_PROPERTIES as ID_PROPS, scoId } from '../../src/core/ids.js';
import { detectObservable, normaliseObservable } from '../../src/core/observable.js';
import type { ObservableType, StixObject } from '../../src/core/stix.js';
import type { Fact, ObjectFacts } from './cybox.js';

/** The SCO type a `*_ref(s)` property points to (undefined: detected from the value). */
const REF_TYPES: Record<string, string | undefined> = {
  parent_directory_ref: 'directory',
  image_ref: 'file',
  parent_ref: 'process',
  from_ref: 'email-addr',
  sender_ref: 'email-addr',
  to_refs: 'email-addr',
  cc_refs: 'email-addr',
  bcc_refs: 'email-addr',
  body_raw_ref: 'file',
  contains_refs: 'file',
  service_dll_refs: 'file',
  src_ref: undefined,
  dst_ref: undefined,
  resolves_to_refs: undefined,
};

interface Draft {
  type: string;
  props: Record<string, unknown>;
  /** Keyed by the property path (steps joined by '.') of the reference. */
  refs: Map<string, Draft>;
  refLists: Map<string, Draft[]>;
  group?: number;
}

function draft(type: string): Draft {
  return { type, props: {}, refs: new Map(), refLists: new Map() };
}

function typeForValue(v: string): string {
  const r = detectObservable(v);
  if (
    r.ok &&
    (r.observable.type === 'ipv4-addr' || r.observable.type === 'ipv6-addr' || r.observable.type === 'domain-name')
  )
    return r.observable.type;
  return 'ipv4-addr';
}

const NORMALISED = new Set(['ipv4-addr', 'ipv6-addr', 'domain-name', 'url', 'email-addr']);

function scalar(type: string, key: string, f: Fact, v: string, parentKey?: string): unknown {
  if (f.kind === 'int' && /^-?\d{1,15}$/.test(v)) return Number(v);
  if (f.kind === 'float' && /^-?\d+(\.\d+)?$/.test(v)) return Number(v);
  if (f.kind === 'bool' && /^(true|false|1|0)$/i.test(v)) return /^(true|1)$/i.test(v);
  if (f.kind === 'timestamp') {
    const ms = Date.parse(v);
    if (!Number.isNaN(ms)) return new Date(ms).toISOString();
  }
  if (key === 'value' && NORMALISED.has(type)) {
    const r = normaliseObservable(type as ObservableType, v);
    if (r.ok) return r.observable.value;
  }
  if (parentKey === 'hashes' && /^[0-9a-fA-F]+$/.test(v)) return v.toLowerCase();
  return v;
}

/** Applies one fact value at `steps` below `d`. */
function apply(d: Draft, steps: string[], f: Fact, v: string): void {
  const r = steps.findIndex((x) => x.endsWith('_ref') || x.endsWith('_refs'));
  const s = first(steps);
  if (r >= 0 && at(steps, r).endsWith('_ref')) {
    const key = steps.slice(0, r + 1).join('.');
    let c = d.refs.get(key);
    if (!c) {
      c = draft(REF_TYPES[at(steps, r)] ?? typeForValue(v));
      d.refs.set(key, c);
    }
    apply(c, steps.slice(r + 1), f, v);
    return;
  }
  if (r >= 0 && steps[r + 1] === '[*]') {
    const key = steps.slice(0, r + 1).join('.');
    const list = d.refLists.get(key) ?? [];
    d.refLists.set(key, list);
    const rest = steps.slice(r + 2);
    let c = list[list.length - 1];
    if (!c || hasPath(c, rest) || (f.group !== undefined && c.group !== f.group)) {
      c = draft(REF_TYPES[at(steps, r)] ?? typeForValue(v));
      c.group = f.group;
      list.push(c);
    }
    apply(c, rest, f, v);
    return;
  }
  if (steps.length === 1) {
    d.props[s] = scalar(d.type, s, f, v);
    return;
  }
  if (steps[1] === '[*]') {
    const arr = (d.props[s] as unknown[] | undefined) ?? [];
    d.props[s] = arr;
    if (steps.length === 2) {
      arr.push(scalar(d.type, s, f, v));
      return;
    }
    // a list of dictionaries (registry values): fill the last entry until a key repeats
    const key = at(steps, 2);
    let last = arr[arr.length - 1] as Record<string, unknown> | undefined;
    if (!last || key in last) {
      last = {};
      arr.push(last);
    }
    setNested(last, steps.slice(2), scalar(d.type, key, f, v));
    return;
  }
  let obj = d.props[s] as Record<string, unknown> | undefined;
  if (!obj || typeof obj !== 'object') {
    obj = {};
    d.props[s] = obj;
  }
  setNested(obj, steps.slice(1), scalar(d.type, last(steps), f, v, steps[steps.length - 2]));
}

function setNested(obj: Record<string, unknown>, steps: string[], value: unknown): void {
  let cur = obj;
  for (let i = 0; i < steps.length - 1; i++) {
    const k = at(steps, i);
    let next = cur[k] as Record<string, unknown> | undefined;
    if (!next || typeof next !== 'object') {
      next = {};
      cur[k] = next;
    }
    cur = next;
  }
  cur[last(steps)] = value;
}

function hasPath(d: Draft, steps: string[]): boolean {
  const head = first(steps);
  if (head.endsWith('_ref')) return d.refs.has(head);
  let cur: unknown = d.props;
  for (const s of steps) {
    if (!cur || typeof cur !== 'object' || !(s in (cur as object))) return false;
    cur = (cur as Record<string, unknown>)[s];
  }
  return true;
}

/**
 * Makes an SCO valid where that needs no invention (header values as lists, `is_multipart`), and
 * says whether it is valid: objects missing what STIX 2.1 requires are dropped (counted by the
 * caller) rather than emitted invalid.
 */
function complete(o: Record<string, unknown>, type: string): boolean {
  switch (type) {
    case 'file':
      return o.hashes !== undefined || o.name !== undefined;
    case 'network-traffic': {
      const ext = o.extensions as Record<string, Record<string, unknown>> | undefined;
      const http = ext?.['http-request-ext'];
      if (http) {
        const h = http.request_header as Record<string, unknown> | undefined;
        if (h) for (const k of Object.keys(h)) if (!Array.isArray(h[k])) h[k] = [h[k]];
        if (http.request_method === undefined || http.request_value === undefined) delete ext['http-request-ext'];
        if (Object.keys(ext).length === 0) delete o.extensions;
      }
      return Array.isArray(o.protocols) && (o.src_ref !== undefined || o.dst_ref !== undefined);
    }
    case 'email-message':
      o.is_multipart = Array.isArray(o.body_multipart);
      return true;
    default:
      return Object.keys(o).length > 0;
  }
}

function finish(d: Draft, out: StixObject[]): string | undefined {
  const o: Record<string, unknown> = { ...d.props };
  for (const [k, c] of d.refs) {
    const id = finish(c, out);
    if (id) setNested(o, k.split('.'), id);
  }
  for (const [k, list] of d.refLists) {
    const ids = list.map((c) => finish(c, out)).filter((x): x is string => x !== undefined);
    if (ids.length) setNested(o, k.split('.'), ids);
  }
  if (!complete(o, d.type)) return undefined;
  const contributing: Record<string, unknown> = {};
  const props = ID_PROPS[d.type];
  if (props) {
    for (const p of props) if (o[p] !== undefined) contributing[p] = o[p];
  }
  const id = scoId(d.type, props && Object.keys(contributing).length ? contributing : o);
  const obj: StixObject = { type: d.type, spec_version: '2.1', id, ...o };
  if (!out.some((x) => x.id === id)) out.push(obj);
  return id;
}

/**
 * The SCOs of one observed CybOX object: the object first, then the objects it references.
 * Facts with pattern conditions other than equality are skipped (they describe no instance).
 */
export function scosFromFacts(of: ObjectFacts): StixObject[] {
  const root = draft(of.type);
  for (const f of of.facts) {
    if (f.condition.toLowerCase() !== 'equals') continue;
    for (const v of f.values) apply(root, f.steps, f, v);
  }
  if (Object.keys(root.props).length === 0 && root.refs.size === 0 && root.refLists.size === 0) return [];
  const out: StixObject[] = [];
  const rootId = finish(root, out);
  if (rootId === undefined) return [];
  const i = out.findIndex((o) => o.id === rootId);
  const r = at(out, i);
  out.splice(i, 1);
  return [r, ...out];
}
