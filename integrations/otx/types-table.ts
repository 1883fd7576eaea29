import { join } from 'node:path';
import type { Issue } from '../../src/core/schema.js';
import { s } from '../../src/core/schema.js';
import { OBSERVABLE_TYPES, type HashAlgorithm, type ObservableType } from '../../src/core/stix.js';
import { loadYamlTable, TABLE_KEY } from '../../src/core/yaml-document.js';

export type OtxTypeRule = { observable: ObservableType | 'auto'; hash?: HashAlgorithm } | { object: 'vulnerability' };

export interface OtxTypeTable {
  types: Map<string, OtxTypeRule>;
  unmapped: Set<string>;
}

/** The observable types of src/core/stix.ts, or `auto` (detected from the value). */
const OBSERVABLES: readonly (ObservableType | 'auto')[] = [...OBSERVABLE_TYPES, 'auto'];
const HASHES = ['MD5', 'SHA-1', 'SHA-256', 'SHA-512'] as const;

/** `mappings/otx/indicator-types.yaml`: OTX indicator type → observable (with a hash algorithm) or object. */
export const otxTypesSchema = s.object({
  types: s.record(
    s.object({
      observable: s.enum(OBSERVABLES, { optional: true }),
      hash: s.enum(HASHES, { optional: true }),
      object: s.enum(['vulnerability'], { optional: true }),
    }),
    { keyPattern: TABLE_KEY },
  ),
  unmapped: s.array(s.string({ maxLength: 200 }), { default: [] }),
});

function rules(t: { types: Record<string, { observable?: string; hash?: string; object?: string }> }): Issue[] {
  const issues: Issue[] = [];
  for (const [name, r] of Object.entries(t.types)) {
    if ((r.observable === undefined) === (r.object === undefined))
      issues.push({
        path: `types.${name}`,
        message: 'needs either observable (with an optional hash) or object: vulnerability',
      });
    else if (r.hash !== undefined && r.observable === undefined)
      issues.push({ path: `types.${name}.hash`, message: 'a hash goes with an observable' });
  }
  return issues;
}

/** Reads `mappings/otx/indicator-types.yaml`; a bad table is a configuration error naming the entry and its line. */
export function loadOtxTypes(mappingsDir: string): OtxTypeTable {
  const t = loadYamlTable(join(mappingsDir, 'otx', 'indicator-types.yaml'), otxTypesSchema, {
    what: 'OTX indicator type table',
    check: rules,
  });
  const types = new Map<string, OtxTypeRule>();
  for (const [name, r] of Object.entries(t.types)) {
    types.set(
      name,
      // the table check (rules) lets exactly one of observable and object through
      r.observable === undefined
        ? { object: 'vulnerability' }
        : { observable: r.observable, ...(r.hash ? { hash: r.hash } : {}) },
    );
  }
  return { types, unmapped: new Set(t.unmapped) };
}
