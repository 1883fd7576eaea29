/**
 * OpenIOC 1.0 / 1.1 document → one STIX 2.1 indicator. Pure: time comes from the document (or
 * the injected fallback), ids from the IOC's own UUID.
 *
 * The indicator tree becomes an observation expression: in an AND (or OR) node, the mapped items
 * of one STIX object type form one observation whose comparisons are ANDed (ORed); observations
 * and sub-trees are joined with the node's operator. Terms with no STIX object path
 * (mappings/openioc/terms.yaml) are kept in `x_openioc_unmapped` and counted.
 */
import { group } from '../../src/core/indexed.js';
import { join } from 'node:path';
import { StixgateError, type Rejection, errorMessage } from '../../src/core/errors.js';
import { s, type Issue } from '../../src/core/schema.js';
import { loadYamlTable, TABLE_KEY } from '../../src/core/yaml-document.js';
import { deterministicId } from '../../src/core/ids.js';
import { normaliseObservable } from '../../src/core/observable.js';
import { canonicalPattern, parsePattern } from '../../src/core/pattern.js';
import { filePathTerm, lit, regexEscape, textTerm, type TextCondition } from '../../src/formats/pattern-terms.js';
import { patternProblem, VALIDITY_POLICY } from '../../src/core/value-gate.js';
import { WorkBudget, BUDGET_FLOOR } from '../../src/core/work-budget.js';
import type { ObservableType, StixObject } from '../../src/core/stix.js';
import { attr, child, childrenNamed, textOf, type XmlElement } from '../../src/core/safe-xml.js';

export type TermKind = 'string' | 'int' | 'hash' | 'timestamp' | 'extension' | 'fullpath' | 'lower';

export interface TermMapping {
  /** STIX object path, e.g. `file:hashes.MD5`. */
  path: string;
  kind: TermKind;
}

export type TermTable = ReadonlyMap<string, TermMapping>;

const KINDS: readonly TermKind[] = ['string', 'int', 'hash', 'timestamp', 'extension', 'fullpath', 'lower'];

/** `mappings/openioc/terms.yaml`: OpenIOC search term → STIX object path and how its value is read. */
export const openIocTermsSchema = s.object({
  terms: s.record(s.object({ path: s.string({ maxLength: 500 }), kind: s.enum([...KINDS], { default: 'string' }) }), {
    keyPattern: TABLE_KEY,
  }),
});

/** Loads and checks mappings/openioc/terms.yaml (every path must parse as a STIX pattern path). */
export function loadOpenIocTerms(mappingsDir: string): TermTable {
  const check = (t: { terms: Record<string, { path: string }> }): Issue[] =>
    Object.entries(t.terms).flatMap(([search, m]) => {
      try {
        parsePattern(`[${m.path} = 'x']`);
        return [];
      } catch {
        return [{ path: `terms.${search}.path`, message: `${m.path} is not a STIX object path` }];
      }
    });
  const t = loadYamlTable(join(mappingsDir, 'openioc', 'terms.yaml'), openIocTermsSchema, {
    what: 'OpenIOC term table',
    check,
  });
  return new Map(Object.entries(t.terms).map(([search, m]) => [search, { path: m.path, kind: m.kind }]));
}

export interface OpenIocMapContext {
  sourceId: string;
  file?: string;
  /** Used when the document carries no usable time (RFC 3339). */
  fallbackTime: string;
  terms: TermTable;
}

export interface UnmappedTerm {
  search: string;
  condition: string;
  content: string;
  negate?: boolean;
  /**
   * `no_stix_path` (the term is not in mappings/openioc/terms.yaml), `unknown_condition` (a
   * condition OpenIOC does not define, or one the term's kind cannot take), `bad_value` (not a
   * number / date where the term needs one), `path_condition` (a negated or regex condition on a
   * full path, which has no single-comparison form).
   */
  reason: string;
}

export interface OpenIocMapResult {
  objects: StixObject[];
  /** The indicator's record time (docs/scoring.md §2a): `last-modified`, else `authored_date`; absent when undated. */
  seenAt?: string;
  rejections: Rejection[];
  stats: { items: number; mapped: number; unmapped: number };
}

/** A comparison expression inside one observation. */
type Cmp = { kind: 'cmp'; text: string } | { kind: 'AND' | 'OR'; items: Cmp[] };
/** An observation of one object (`key`: the OpenIOC document and the STIX type) or an expression of observations. */
type Node = { kind: 'obs'; key: string; cmp: Cmp } | { kind: 'AND' | 'OR'; items: Node[] };

const MAX_DEPTH = 64;

const NORMALISED = new Set(['ipv4-addr', 'ipv6-addr', 'domain-name', 'url', 'email-addr']);

function canonical(path: string, kind: TermKind, v: string): string {
  if (kind === 'hash' || kind === 'lower') return v.toLowerCase();
  const m = /^([a-z0-9-]+):value$/.exec(path);
  if (m && NORMALISED.has(group(m, 1))) {
    const r = normaliseObservable(m[1] as ObservableType, v);
    if (r.ok) return r.observable.value;
  }
  return v;
}

function timestampLiteral(v: string): string | undefined {
  if (!/^\d{4}-\d\d-\d\d/.test(v)) return undefined;
  const ms = Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(v) ? v : `${v}Z`);
  return Number.isNaN(ms) ? undefined : `t'${new Date(ms).toISOString()}'`;
}

const TEXT: Record<string, TextCondition> = {
  is: 'equals',
  contains: 'contains',
  'starts-with': 'startswith',
  'ends-with': 'endswith',
};
const KNOWN = new Set(['is', 'contains', 'starts-with', 'ends-with', 'matches', 'greater-than', 'less-than']);

/** One IndicatorItem → its comparison text, or why it has none. */
function itemComparison(
  m: TermMapping,
  condition: string,
  content: string,
  negate: boolean,
): { text: string } | { reason: string } {
  const c = condition.toLowerCase();
  // OpenIOC 1.0 negated conditions
  const neg = c === 'isnot' || c === 'containsnot' ? !negate : negate;
  const base = c === 'isnot' ? 'is' : c === 'containsnot' ? 'contains' : c;
  if (!KNOWN.has(base)) return { reason: 'unknown_condition' };
  const n = neg ? 'NOT ' : '';
  if (m.kind === 'extension') {
    const ext = content.replace(/^\./, '');
    if (base !== 'is' && base !== 'contains' && base !== 'ends-with') return { reason: 'unknown_condition' };
    return { text: `${m.path} ${n}MATCHES ${lit(`\\.${regexEscape(ext)}$`)}` };
  }
  if (m.kind === 'fullpath') {
    const cond = TEXT[base];
    const prefix = m.path.slice(0, m.path.indexOf(':') + 1);
    const text = cond ? filePathTerm(prefix, cond, content, neg) : undefined;
    return text === undefined ? { reason: 'path_condition' } : { text };
  }
  let value: string;
  switch (m.kind) {
    case 'int':
      if (!/^-?\d{1,15}$/.test(content.trim())) return { reason: 'bad_value' };
      value = String(Number(content.trim()));
      break;
    case 'timestamp': {
      const t = timestampLiteral(content.trim());
      if (!t) return { reason: 'bad_value' };
      value = t;
      break;
    }
    default:
      value = lit(canonical(m.path, m.kind, content));
  }
  if (TEXT[base]) return { text: textTerm(m.path, TEXT[base], content, neg, value) };
  switch (base) {
    case 'matches':
      return { text: `${m.path} ${n}MATCHES ${lit(content)}` };
    case 'greater-than':
      return { text: `${m.path} ${n}> ${value}` };
    default:
      return { text: `${m.path} ${n}< ${value}` };
  }
}

function cmpText(c: Cmp, parent?: string): string {
  if (c.kind === 'cmp') return c.text;
  const inner = c.items.map((i) => cmpText(i, c.kind)).join(` ${c.kind} `);
  return parent !== undefined && c.items.length > 1 ? `(${inner})` : inner;
}

function nodeText(n: Node, parent?: string): string {
  if (n.kind === 'obs') return `[${cmpText(n.cmp)}]`;
  const inner = n.items.map((i) => nodeText(i, n.kind)).join(` ${n.kind} `);
  return parent !== undefined && n.items.length > 1 ? `(${inner})` : inner;
}

/** The one object key of a sub-tree whose observations all describe the same kind of object; undefined otherwise. */
function singleKey(n: Node): string | undefined {
  if (n.kind === 'obs') return n.key;
  const keys = new Set(n.items.map(singleKey));
  return keys.size === 1 && !keys.has(undefined) ? [...keys][0] : undefined;
}

/** A single-object sub-tree as one comparison expression (its boolean structure kept). */
function asCmp(n: Node): Cmp {
  return n.kind === 'obs' ? n.cmp : { kind: n.kind, items: n.items.map(asCmp) };
}

/**
 * Maps the indicator tree. OpenIOC has no references, so each element is visited once; the work
 * budget (one unit per Indicator and IndicatorItem) and the depth limit make that explicit: past
 * either, the IOC is rejected (`too_complex`, `too_deep`) instead of silently truncated.
 *
 * In a node, the items about one object (same OpenIOC document, e.g. `ProcessItem`, and same
 * STIX type) and every sub-tree about only that object form ONE observation, the node's
 * operator joining their comparisons and the sub-trees keeping their own boolean structure —
 * `ProcessItem/name is x AND (ProcessItem/path contains a OR ProcessItem/path contains b)` is
 * one process. Items about other objects and mixed sub-trees are observations joined with the
 * node's operator.
 */
class TreeMapper {
  readonly unmapped: UnmappedTerm[] = [];
  items = 0;
  mapped = 0;

  constructor(
    private readonly terms: TermTable,
    readonly budget: WorkBudget,
  ) {}

  indicator(el: XmlElement, depth: number): Node | undefined {
    this.budget.spend();
    if (depth > MAX_DEPTH)
      throw new StixgateError('STIXGATE_ERR_INPUT_TOO_COMPLEX', `OpenIOC indicators nested deeper than ${MAX_DEPTH}`, {
        reason: 'too_deep',
      });
    const op = (attr(el, 'operator') ?? 'OR').toUpperCase() === 'AND' ? 'AND' : 'OR';
    const byKey = new Map<string, Cmp[]>();
    const mixed: Node[] = [];
    const add = (key: string, c: Cmp): void => {
      const list = byKey.get(key) ?? [];
      list.push(c);
      byKey.set(key, list);
    };
    for (const c of el.children) {
      if (c.local === 'Indicator') {
        const sub = this.indicator(c, depth + 1);
        if (!sub) continue;
        const key = singleKey(sub);
        if (key !== undefined) add(key, asCmp(sub));
        else mixed.push(sub);
      } else if (c.local === 'IndicatorItem') {
        const item = this.item(c);
        if (item) add(item.key, { kind: 'cmp', text: item.text });
      }
    }
    const items: Node[] = [...byKey.entries()].map(([key, cmps]) => ({
      kind: 'obs',
      key,
      cmp: cmps.length === 1 && cmps[0] ? cmps[0] : { kind: op, items: cmps },
    }));
    items.push(...mixed);
    if (items.length === 0) return undefined;
    return items.length === 1 ? items[0] : { kind: op, items };
  }

  private item(el: XmlElement): { key: string; text: string } | undefined {
    this.budget.spend();
    this.items++;
    const ctxEl = child(el, 'Context');
    const search = attr(ctxEl, 'search') ?? '';
    const condition = attr(el, 'condition') ?? 'is';
    const content = textOf(el, 'Content') ?? '';
    const negate = (attr(el, 'negate') ?? 'false').toLowerCase() === 'true';
    const m = this.terms.get(search);
    const r =
      m && content ? itemComparison(m, condition, content, negate) : { reason: m ? 'bad_value' : 'no_stix_path' };
    if ('reason' in r) {
      const u: UnmappedTerm = { search, condition, content, reason: r.reason };
      if (negate) u.negate = true;
      this.unmapped.push(u);
      return undefined;
    }
    if (!m) return undefined; // a comparison is only made for a known term
    this.mapped++;
    const document = attr(ctxEl, 'document') ?? search.split('/')[0];
    return { key: `${document}|${m.path.slice(0, m.path.indexOf(':'))}`, text: r.text };
  }
}

function iocTime(v: string | undefined): string | undefined {
  if (!v || v.startsWith('0001-')) return undefined;
  const t = v.trim();
  if (!/^\d{4}-\d\d-\d\dT/.test(t)) return undefined;
  const ms = Date.parse(/([zZ]|[+-]\d\d:?\d\d)$/.test(t) ? t : `${t}Z`);
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
}

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** The element re-serialised (for `pattern_type: openioc` when no term maps). */
export function xmlText(el: XmlElement): string {
  const attrs = Object.entries(el.attrs)
    .map(([k, v]) => ` ${k}="${escapeXml(v)}"`)
    .join('');
  const inner = el.children.length ? el.children.map(xmlText).join('') : escapeXml(el.text.trim());
  return inner ? `<${el.name}${attrs}>${inner}</${el.name}>` : `<${el.name}${attrs}/>`;
}

const UUID_RE = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

export function isOpenIoc(root: XmlElement): boolean {
  return root.local === 'ioc' || root.local === 'OpenIOC';
}

/** Maps one parsed OpenIOC document (1.0 `<ioc>` or 1.1 `<OpenIOC>`). */
export function mapOpenIoc(root: XmlElement, ctx: OpenIocMapContext): OpenIocMapResult {
  const loc = { source: ctx.sourceId, ...(ctx.file ? { file: ctx.file } : {}) };
  if (!isOpenIoc(root)) {
    return {
      objects: [],
      rejections: [
        {
          reason: 'not_openioc',
          message: `root element <${root.name}> is not an OpenIOC <ioc> or <OpenIOC>`,
          location: loc,
        },
      ],
      stats: { items: 0, mapped: 0, unmapped: 0 },
    };
  }
  const meta = root.local === 'OpenIOC' ? child(root, 'metadata') : root;
  const criteria = root.local === 'OpenIOC' ? child(root, 'criteria') : child(root, 'definition');
  const iocId = attr(root, 'id');
  const tm = new TreeMapper(ctx.terms, new WorkBudget(BUDGET_FLOOR, 'OpenIOC document'));
  const tops = childrenNamed(criteria, 'Indicator');
  let nodes: Node[];
  try {
    nodes = tops.map((t) => tm.indicator(t, 0)).filter((n): n is Node => n !== undefined);
  } catch (e) {
    if (!(e instanceof StixgateError)) throw e;
    return {
      objects: [],
      rejections: [{ reason: e.reason, message: e.message, location: loc }],
      stats: { items: tm.items, mapped: tm.mapped, unmapped: tm.unmapped.length },
    };
  }
  const stats = { items: tm.items, mapped: tm.mapped, unmapped: tm.unmapped.length };
  const created = iocTime(attr(root, 'last-modified')) ?? iocTime(textOf(meta, 'authored_date')) ?? ctx.fallbackTime;
  const objects: StixObject[] = [];
  const o: StixObject = {
    type: 'indicator',
    spec_version: '2.1',
    id:
      iocId && UUID_RE.test(iocId)
        ? `indicator--${iocId.toLowerCase()}`
        : deterministicId('indicator', `openioc:${iocId ?? ctx.file ?? ''}`),
    created,
    modified: created,
  };
  const name = textOf(meta, 'short_description');
  if (name) o.name = name;
  const description = textOf(meta, 'description');
  if (description) o.description = description;
  if (nodes.length) {
    const node: Node = nodes.length === 1 && nodes[0] ? nodes[0] : { kind: 'OR', items: nodes };
    const text = nodeText(node);
    try {
      canonicalPattern(text);
    } catch (e) {
      return {
        objects: [],
        rejections: [
          {
            reason: 'pattern_invalid',
            message: `OpenIOC pattern does not parse: ${errorMessage(e)}`,
            location: loc,
          },
        ],
        stats,
      };
    }
    // an invalid value (a hash of the wrong length, a bad address) rejects the IOC: dropping the
    // term could widen an AND
    const bad = patternProblem(text, VALIDITY_POLICY);
    if (bad)
      return {
        objects: [],
        rejections: [{ reason: bad.reason, message: `OpenIOC ${bad.message}`, location: loc }],
        stats,
      };
    o.pattern = text;
    o.pattern_type = 'stix';
    o.pattern_version = '2.1';
  } else if (criteria && stats.items > 0) {
    // Nothing maps: the IOC itself is the pattern, so nothing is lost.
    o.pattern = xmlText(criteria);
    o.pattern_type = 'openioc';
  } else {
    return {
      objects: [],
      rejections: [{ reason: 'empty_ioc', message: 'OpenIOC document has no IndicatorItem', location: loc }],
      stats,
    };
  }
  o.valid_from = iocTime(textOf(meta, 'authored_date')) ?? created;
  if (tm.unmapped.length) o.x_openioc_unmapped = tm.unmapped;
  const author = textOf(meta, 'authored_by');
  if (author) {
    const identity: StixObject = {
      type: 'identity',
      spec_version: '2.1',
      id: deterministicId('identity', `openioc-author:${author}`),
      created,
      modified: created,
      name: author,
    };
    objects.push(identity);
    o.created_by_ref = identity.id;
  }
  objects.push(o);
  const seenAt = iocTime(attr(root, 'last-modified')) ?? iocTime(textOf(meta, 'authored_date'));
  return seenAt ? { objects, rejections: [], stats, seenAt } : { objects, rejections: [], stats };
}
