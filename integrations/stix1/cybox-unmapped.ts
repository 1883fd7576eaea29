/**
 * CybOX properties that no fact read: every leaf element of an object's `Properties` with a value
 * that is neither a fact's source nor inside one (X.509 v3 extensions, account fields, PE
 * headers and sections, process handles and threads, custom properties, …). They are listed on
 * the indicator or observed-data in `x_stix1_unmapped`, so nothing is dropped silently.
 */
import { attr, type XmlElement } from '../../src/core/safe-xml.js';
import type { ObjectFacts } from './cybox.js';

export interface UnmappedProperty {
  /** Element path below `Properties`, e.g. `Extensions/Standard_Extensions/Basic_Constraints`. */
  property: string;
  value: string;
  condition?: string;
}

/** Longest value kept (characters); longer ones end with `…`. */
const MAX_VALUE = 256;
/** Most entries per object; the rest are counted in one `…` entry. */
const MAX_ENTRIES = 64;

/** The leaf properties of `props` that `of` did not read, in document order. */
export function unmappedProperties(props: XmlElement, of: ObjectFacts | undefined): UnmappedProperty[] {
  const read = new Set<XmlElement>(of?.used ?? []);
  for (const f of of?.facts ?? []) if (f.source) read.add(f.source);
  const out: UnmappedProperty[] = [];
  let more = 0;
  const walk = (el: XmlElement, path: string): void => {
    for (const c of el.children) {
      if (read.has(c)) continue;
      const name = attr(c, 'name');
      const p = `${path}${path ? '/' : ''}${c.local}${name !== undefined ? `[@name=${name}]` : ''}`;
      if (c.children.length) {
        walk(c, p);
        continue;
      }
      const v = c.text.trim();
      if (!v) continue;
      if (out.length >= MAX_ENTRIES) {
        more++;
        continue;
      }
      const u: UnmappedProperty = { property: p, value: v.length > MAX_VALUE ? `${v.slice(0, MAX_VALUE)}…` : v };
      const cond = attr(c, 'condition');
      if (cond !== undefined) u.condition = cond;
      out.push(u);
    }
  };
  walk(props, '');
  if (more) out.push({ property: '…', value: `${more} more properties` });
  return out;
}
