/**
 * CybOX "facts": (STIX 2.1 object type, property path, values, condition), read from CybOX
 * property elements; shared by the object mappers (cybox.ts, cybox-file.ts).
 */
import { attr, path, textOf, type XmlElement } from '../../src/core/safe-xml.js';

/** One step of a STIX 2.1 object path: a property name, or `[*]` after a list property. */
export type Step = string;

export interface Fact {
  /** STIX 2.1 object type the path starts from (`file`, `network-traffic`, …). */
  type: string;
  steps: Step[];
  /** The raw values (a `##comma##` list gives several). */
  values: string[];
  /** CybOX condition (`Equals` when absent). */
  condition: string;
  /** `ANY` (default) or `ALL`, for value lists. */
  applyCondition: string;
  /**
   * Literal kind in patterns; `path`: a full file path compared with a condition other than
   * Equals, split into name and directory when the pattern is built (src/formats/pattern-terms.ts).
   */
  kind: 'string' | 'int' | 'timestamp' | 'float' | 'bool' | 'path';
  /** The CybOX element the value came from (what is not a source is listed as unmapped). */
  source?: XmlElement;
  /** Facts of one list member share a group number (e.g. one archived file among several). */
  group?: number;
}

export interface ObjectFacts {
  type: string;
  facts: Fact[];
  /** Elements read without becoming a fact of their own (a registry Hive folded into the key). */
  used?: XmlElement[];
}

export const LIST_SEP = '##comma##';

export function fact(
  type: string,
  steps: Step[],
  el: XmlElement | undefined,
  kind: Fact['kind'] = 'string',
  transform?: (v: string) => string,
): Fact | undefined {
  const raw = textOf(el);
  if (raw === undefined || !el) return undefined;
  const values = raw
    .split(LIST_SEP)
    .map((v) => v.trim())
    .filter((v) => v.length > 0)
    .map((v) => (transform ? transform(v) : v));
  if (values.length === 0) return undefined;
  return {
    type,
    steps,
    values,
    condition: attr(el, 'condition') ?? 'Equals',
    applyCondition: (attr(el, 'apply_condition') ?? 'ANY').toUpperCase(),
    kind,
    source: el,
  };
}

export function push(out: Fact[], f: Fact | undefined): void {
  if (f) out.push(f);
}

export function simple(type: string, table: [string[], Step[], Fact['kind']?][], p: XmlElement): ObjectFacts {
  const facts: Fact[] = [];
  for (const [src, steps, kind] of table) push(facts, fact(type, steps, path(p, ...src), kind ?? 'string'));
  return { type, facts };
}
