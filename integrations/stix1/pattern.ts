/**
 * CybOX observables (objects, related objects, observable compositions, idrefs) → STIX 2.1
 * patterns. Each CybOX object is one observation (`[...]`) whose properties are ANDed; an
 * `Observable_Composition` is an observation expression with its AND/OR operator.
 */
import { escapePatternString } from '../../src/core/pattern.js';
import { filePathTerm, textTerm, type TextCondition } from '../../src/formats/pattern-terms.js';
import { unmappedProperties } from './cybox-unmapped.js';
import { normaliseObservable } from '../../src/core/observable.js';
import type { ObservableType } from '../../src/core/stix.js';
import { attr, child, childrenNamed, textOf, xsiType, type XmlElement } from '../../src/core/safe-xml.js';
import { WorkBudget } from '../../src/core/work-budget.js';
import { fileFacts, objectFacts, type Fact, type ObjectFacts } from './cybox.js';

export type CmpNode = { kind: 'cmp'; text: string } | { kind: 'AND' | 'OR'; items: CmpNode[] };
export type ObsNode = { kind: 'obs'; cmp: CmpNode; type: string } | { kind: 'AND' | 'OR'; items: ObsNode[] };

export interface Unmapped {
  /** The CybOX properties type (or `Event`, `composition`). */
  cybox_type: string;
  /** The STIX 1.x id of the observable or object, when it has one. */
  id?: string;
  /** For one property of a mapped object: its element path below `Properties`. */
  property?: string;
  value?: string;
  condition?: string;
  /**
   * Why a property is listed: `no_stix_property` (STIX 2.1 has no place for it),
   * `unknown_condition` (a condition that is not CybOX's, e.g. `greaterthen`: the term is left out
   * rather than read as `=`), `path_condition` (a negated path condition with no
   * single-comparison form). Absent for a whole object with no STIX 2.1 type.
   */
  reason?: string;
}

/** Resolves `idref`s within the package. */
export interface IdIndex {
  byId: ReadonlyMap<string, XmlElement>;
}

const MAX_REF_DEPTH = 32;
const IDENT_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function pathText(type: string, steps: readonly string[]): string {
  let out = `${type}:`;
  steps.forEach((s, i) => {
    if (s === '[*]') out += '[*]';
    else out += (i === 0 ? '' : '.') + (IDENT_RE.test(s) ? s : `'${escapePatternString(s)}'`);
  });
  return out;
}

const NORMALISED_TYPES = new Set(['ipv4-addr', 'ipv6-addr', 'domain-name', 'url', 'email-addr']);

/** The canonical form of an equality value on a main observable property; the raw value otherwise. */
function canonicalValue(f: Fact, v: string): string {
  const last = f.steps[f.steps.length - 1];
  if (f.steps.length === 1 && last === 'value' && NORMALISED_TYPES.has(f.type)) {
    const r = normaliseObservable(f.type as ObservableType, v);
    if (r.ok) return r.observable.value;
  }
  if (f.steps[f.steps.length - 2] === 'hashes' && /^[0-9a-fA-F]+$/.test(v)) return v.toLowerCase();
  return v;
}

function literal(f: Fact, v: string): string {
  if (f.kind === 'int' && /^-?\d{1,15}$/.test(v)) return String(Number(v));
  if (f.kind === 'float' && /^-?\d+(\.\d+)?$/.test(v)) return v;
  if (f.kind === 'bool' && /^(true|false|1|0)$/i.test(v)) return /^(true|1)$/i.test(v) ? 'true' : 'false';
  if (f.kind === 'timestamp') {
    const ms = Date.parse(v);
    if (!Number.isNaN(ms) && /^\d{4}-\d\d-\d\d/.test(v)) return `t'${new Date(ms).toISOString()}'`;
  }
  return `'${escapePatternString(v)}'`;
}

const TEXT_CONDITIONS: Record<string, TextCondition> = {
  Equals: 'equals',
  Contains: 'contains',
  StartsWith: 'startswith',
  EndsWith: 'endswith',
};

function one(f: Fact, p: string, op: string, v: string): CmpNode | undefined {
  if (f.kind === 'path') {
    const cond = TEXT_CONDITIONS[op === 'DoesNotContain' ? 'Contains' : op];
    const text = cond ? filePathTerm(p.endsWith(':') ? p : `${p}.`, cond, v, op === 'DoesNotContain') : undefined;
    return text === undefined ? undefined : { kind: 'cmp', text };
  }
  switch (op) {
    case 'Equals':
      return { kind: 'cmp', text: `${p} = ${literal(f, canonicalValue(f, v))}` };
    case 'DoesNotEqual':
      return { kind: 'cmp', text: `${p} != ${literal(f, canonicalValue(f, v))}` };
    case 'Contains':
    case 'StartsWith':
    case 'EndsWith': {
      const cond = TEXT_CONDITIONS[op];
      return cond ? { kind: 'cmp', text: textTerm(p, cond, v) } : undefined;
    }
    case 'DoesNotContain':
      return { kind: 'cmp', text: textTerm(p, 'contains', v, true) };
    case 'FitsPattern':
      return { kind: 'cmp', text: `${p} MATCHES '${escapePatternString(v)}'` };
    case 'GreaterThan':
      return { kind: 'cmp', text: `${p} > ${literal(f, v)}` };
    case 'GreaterThanOrEqual':
      return { kind: 'cmp', text: `${p} >= ${literal(f, v)}` };
    case 'LessThan':
      return { kind: 'cmp', text: `${p} < ${literal(f, v)}` };
    case 'LessThanOrEqual':
      return { kind: 'cmp', text: `${p} <= ${literal(f, v)}` };
    default:
      return undefined;
  }
}

const CONDITIONS: Record<string, string> = {
  equals: 'Equals',
  doesnotequal: 'DoesNotEqual',
  contains: 'Contains',
  doesnotcontain: 'DoesNotContain',
  startswith: 'StartsWith',
  endswith: 'EndsWith',
  fitspattern: 'FitsPattern',
  greaterthan: 'GreaterThan',
  greaterthanorequal: 'GreaterThanOrEqual',
  lessthan: 'LessThan',
  lessthanorequal: 'LessThanOrEqual',
  inclusivebetween: 'InclusiveBetween',
  exclusivebetween: 'ExclusiveBetween',
};

/** The CybOX condition (case-insensitive); undefined for anything else (`greaterthen`, BitwiseAnd). */
function conditionName(c: string): string | undefined {
  return CONDITIONS[c.toLowerCase()];
}

/** Why a fact has no comparison (it is then left out of the pattern and listed as unmapped). */
export type TermProblem = { fact: Fact; reason: 'unknown_condition' | 'path_condition' };

/**
 * One fact → its comparison expression (value lists become IN, or OR/AND by apply_condition);
 * undefined, with the problem reported, when its condition is unknown or has no STIX form.
 */
export function factComparison(f: Fact, problem: (p: TermProblem) => void = () => {}): CmpNode | undefined {
  const p = pathText(f.type, f.steps);
  const cond = conditionName(f.condition);
  if (cond === undefined) {
    problem({ fact: f, reason: 'unknown_condition' });
    return undefined;
  }
  if (cond === 'InclusiveBetween' || cond === 'ExclusiveBetween') {
    const [lo, hi] = f.values;
    if (lo !== undefined && hi !== undefined) {
      const [a, b] = cond === 'InclusiveBetween' ? ['>=', '<='] : ['>', '<'];
      return {
        kind: 'AND',
        items: [
          { kind: 'cmp', text: `${p} ${a} ${literal(f, lo)}` },
          { kind: 'cmp', text: `${p} ${b} ${literal(f, hi)}` },
        ],
      };
    }
    problem({ fact: f, reason: 'unknown_condition' });
    return undefined;
  }
  if (f.values.length > 1 && cond === 'Equals' && f.applyCondition !== 'ALL' && f.kind !== 'path') {
    return { kind: 'cmp', text: `${p} IN (${f.values.map((v) => literal(f, canonicalValue(f, v))).join(', ')})` };
  }
  const items: CmpNode[] = [];
  for (const v of f.values) {
    const c = one(f, p, cond, v);
    if (!c) {
      problem({ fact: f, reason: 'path_condition' });
      return undefined;
    }
    items.push(c);
  }
  if (items.length === 1) return items[0];
  return { kind: f.applyCondition === 'ALL' ? 'AND' : 'OR', items };
}

export function cmpText(n: CmpNode, parent?: string): string {
  if (n.kind === 'cmp') return n.text;
  const inner = n.items.map((i) => cmpText(i, n.kind)).join(` ${n.kind} `);
  return parent !== undefined && n.items.length > 1 ? `(${inner})` : inner;
}

export function obsText(n: ObsNode, parent?: string): string {
  if (n.kind === 'obs') return `[${cmpText(n.cmp)}]`;
  const inner = n.items.map((i) => obsText(i, n.kind)).join(` ${n.kind} `);
  return parent !== undefined && n.items.length > 1 ? `(${inner})` : inner;
}

/** Whether a related object becomes part of its parent's properties (otherwise: its own observation). */
export function foldsInto(parentType: string, rel: XmlElement): boolean {
  const kind = (textOf(rel, 'Relationship') ?? '').toLowerCase();
  if (parentType === 'domain-name' && kind === 'resolved_to') return true;
  if (parentType === 'email-message' && (kind === 'contains' || kind === 'contained_within')) return true;
  return false;
}

/** The comparisons of one object: its hashes ORed (any of them identifies the file), the rest ANDed. */
function objectComparison(of: ObjectFacts, problem: (p: TermProblem) => void): CmpNode | undefined {
  const hashes: CmpNode[] = [];
  const rest: CmpNode[] = [];
  for (const f of of.facts) {
    const c = factComparison(f, problem);
    if (!c) continue;
    if (f.steps.length === 2 && f.steps[0] === 'hashes') hashes.push(c);
    else rest.push(c);
  }
  if (hashes.length > 1) rest.unshift({ kind: 'OR', items: hashes });
  else rest.unshift(...hashes);
  return and(rest);
}

function and(items: CmpNode[]): CmpNode | undefined {
  if (items.length === 0) return undefined;
  return items.length === 1 ? items[0] : { kind: 'AND', items };
}

/**
 * Builds observation expressions from CybOX observables, resolving idrefs in the package.
 * Bounded work: an idref back to an observable or object being expanded is a cycle
 * (unmapped `idref-cycle`), and every node built spends one unit of the document's budget, so
 * references that fan out (a "diamond" of compositions each using the level below twice) end in
 * STIXGATE_ERR_INPUT_TOO_COMPLEX instead of exponential work.
 */
export class PatternBuilder {
  readonly unmapped: Unmapped[] = [];
  /** Observables and objects being expanded (the current reference path). */
  private readonly active = new Set<XmlElement>();

  constructor(
    private readonly index: IdIndex,
    readonly budget: WorkBudget = WorkBudget.forElements(index.byId.size, 'STIX 1.x package'),
  ) {}

  /** Runs `fn` with `el` on the reference path; undefined (and a cycle noted) when it already is. */
  private enter<T>(el: XmlElement, fn: () => T | undefined): T | undefined {
    this.budget.spend();
    if (this.active.has(el)) {
      this.unmapped.push({ cybox_type: 'idref-cycle', id: attr(el, 'id') });
      return undefined;
    }
    this.active.add(el);
    try {
      return fn();
    } finally {
      this.active.delete(el);
    }
  }

  private resolve(el: XmlElement, depth: number): XmlElement | undefined {
    let cur: XmlElement | undefined = el;
    for (let i = 0; cur && i < MAX_REF_DEPTH - depth; i++) {
      const ref = attr(cur, 'idref');
      if (
        ref === undefined ||
        cur.children.some(
          (c) => c.local === 'Properties' || c.local === 'Object' || c.local === 'Observable_Composition',
        )
      )
        return cur;
      cur = this.index.byId.get(ref);
    }
    return undefined;
  }

  /** The observation expression of one `Observable` element, or undefined when nothing maps. */
  observable(el: XmlElement, depth = 0): ObsNode | undefined {
    if (depth > MAX_REF_DEPTH) return undefined;
    const obs = this.resolve(el, depth);
    if (!obs) {
      this.unmapped.push({ cybox_type: 'unresolved-idref', id: attr(el, 'idref') });
      return undefined;
    }
    return this.enter(obs, () => this.observableBody(obs, depth));
  }

  private observableBody(obs: XmlElement, depth: number): ObsNode | undefined {
    const comp = child(obs, 'Observable_Composition');
    if (comp) {
      const op = (attr(comp, 'operator') ?? 'AND').toUpperCase() === 'OR' ? 'OR' : 'AND';
      const items = childrenNamed(comp, 'Observable')
        .map((o) => this.observable(o, depth + 1))
        .filter((x): x is ObsNode => x !== undefined);
      if (items.length === 0) return undefined;
      if (items.length === 1) return items[0];
      // An OR of single observations is one observation with ORed comparisons (as stix2-elevator writes it).
      if (op === 'OR' && items.every((i) => i.kind === 'obs')) {
        return {
          kind: 'obs',
          type: (items[0] as { type: string }).type,
          cmp: { kind: 'OR', items: items.map((i) => (i as { cmp: CmpNode }).cmp) },
        };
      }
      return { kind: op, items };
    }
    const obj = child(obs, 'Object');
    if (obj) return this.object(obj, depth + 1);
    this.unmapped.push({ cybox_type: child(obs, 'Event') ? 'Event' : 'empty', id: attr(obs, 'id') });
    return undefined;
  }

  /** The facts of a `cybox:Object` (idref resolved), with its related objects folded in. */
  objectFacts(obj: XmlElement, depth: number): ObjectFacts | undefined {
    const o = this.resolve(obj, depth);
    if (!o) {
      this.unmapped.push({ cybox_type: 'unresolved-idref', id: attr(obj, 'idref') });
      return undefined;
    }
    const props = child(o, 'Properties');
    if (!props) return undefined;
    const facts = objectFacts(props);
    if (!facts) {
      this.unmapped.push({ cybox_type: xsiType(props) ?? 'unknown', id: attr(o, 'id') });
      return undefined;
    }
    const cyboxType = xsiType(props) ?? 'unknown';
    for (const u of unmappedProperties(props, facts))
      this.unmapped.push({ cybox_type: cyboxType, id: attr(o, 'id'), ...u, reason: 'no_stix_property' });
    // Related objects that fold into the object's own properties.
    for (const rel of childrenNamed(child(o, 'Related_Objects'), 'Related_Object')) {
      if (!foldsInto(facts.type, rel)) continue;
      this.budget.spend();
      const kind = (textOf(rel, 'Relationship') ?? '').toLowerCase();
      const target = this.resolve(rel, depth + 1);
      const rprops = child(target, 'Properties');
      if (!rprops) continue;
      const rf = objectFacts(rprops);
      if (!rf) continue;
      if (facts.type === 'domain-name' && kind === 'resolved_to') {
        for (const f of rf.facts)
          if (f.steps[0] === 'value')
            facts.facts.push({ ...f, type: 'domain-name', steps: ['resolves_to_refs', '[*]', 'value'] });
      } else if (
        facts.type === 'email-message' &&
        (kind === 'contains' || kind === 'contained_within' || rf.type === 'file')
      ) {
        for (const f of rf.facts)
          if (rf.type === 'file')
            facts.facts.push({
              ...f,
              type: 'email-message',
              steps: ['body_multipart', '[*]', 'body_raw_ref', ...f.steps],
            });
      }
    }
    // E-mail attachments referenced from the properties.
    if (facts.type === 'email-message') {
      for (const a of childrenNamed(child(props, 'Attachments'), 'File')) {
        const ref = attr(a, 'object_reference');
        const target = ref ? this.index.byId.get(ref) : undefined;
        const fprops = child(target, 'Properties');
        if (fprops)
          for (const f of fileFacts('email-message', ['body_multipart', '[*]', 'body_raw_ref'], fprops))
            facts.facts.push(f);
      }
    }
    return facts;
  }

  /** A term left out of the pattern: listed with its property, value, condition and reason. */
  private termProblem(obj: XmlElement, depth: number, p: TermProblem): void {
    const o = this.resolve(obj, depth);
    const props = child(o, 'Properties');
    this.unmapped.push({
      cybox_type: (props && xsiType(props)) ?? 'unknown',
      id: attr(o ?? obj, 'id'),
      property: p.fact.source?.local ?? pathText(p.fact.type, p.fact.steps),
      value: p.fact.values.join('##comma##'),
      condition: p.fact.condition,
      reason: p.reason,
    });
  }

  /** One object's observation, ANDed with observations of its related objects that do not fold into it. */
  private object(obj: XmlElement, depth: number): ObsNode | undefined {
    if (depth > MAX_REF_DEPTH) return undefined;
    const target = this.resolve(obj, depth);
    if (!target) return this.objectBody(obj, depth);
    return this.enter(target, () => this.objectBody(obj, depth));
  }

  private objectBody(obj: XmlElement, depth: number): ObsNode | undefined {
    const of = this.objectFacts(obj, depth);
    const own = of ? objectComparison(of, (p) => this.termProblem(obj, depth, p)) : undefined;
    const items: ObsNode[] = own && of ? [{ kind: 'obs', cmp: own, type: of.type }] : [];
    const o = this.resolve(obj, depth);
    if (o && of) {
      for (const rel of childrenNamed(child(o, 'Related_Objects'), 'Related_Object')) {
        if (foldsInto(of.type, rel)) continue;
        const r = this.object(rel, depth + 1);
        if (r) items.push(r);
      }
    }
    if (items.length === 0) return undefined;
    return items.length === 1 ? items[0] : { kind: 'AND', items };
  }
}
