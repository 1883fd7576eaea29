/**
 * JSON types of the common STIX 2.1 properties (STIX 2.1 §3, §4-§6). A feed that sends `name: 5`,
 * `indicator_types: "x"` or `hashes: "abc"` has its object refused with `bad_property` instead of
 * passing the wrong type on to the store, the lookup index and the sinks.
 */

import { isRecord } from './guards.js';

type Kind = 'string' | 'boolean' | 'integer' | 'string[]' | 'object' | 'object[]' | 'string-map';

const KINDS: Record<string, Kind> = {
  name: 'string',
  description: 'string',
  lang: 'string',
  pattern: 'string',
  pattern_type: 'string',
  pattern_version: 'string',
  value: 'string',
  context: 'string',
  content: 'string',
  opinion: 'string',
  product: 'string',
  identity_class: 'string',
  relationship_type: 'string',
  objective: 'string',
  primary_motivation: 'string',
  resource_level: 'string',
  sophistication: 'string',
  revoked: 'boolean',
  is_family: 'boolean',
  defanged: 'boolean',
  is_multipart: 'boolean',
  number_observed: 'integer',
  count: 'integer',
  labels: 'string[]',
  indicator_types: 'string[]',
  malware_types: 'string[]',
  threat_actor_types: 'string[]',
  tool_types: 'string[]',
  report_types: 'string[]',
  infrastructure_types: 'string[]',
  aliases: 'string[]',
  roles: 'string[]',
  goals: 'string[]',
  sectors: 'string[]',
  secondary_motivations: 'string[]',
  personal_motivations: 'string[]',
  architecture_execution_envs: 'string[]',
  implementation_languages: 'string[]',
  capabilities: 'string[]',
  extensions: 'object',
  external_references: 'object[]',
  kill_chain_phases: 'object[]',
  granular_markings: 'object[]',
  hashes: 'string-map',
};

function matches(kind: Kind, v: unknown): boolean {
  switch (kind) {
    case 'string':
      return typeof v === 'string';
    case 'boolean':
      return typeof v === 'boolean';
    case 'integer':
      return typeof v === 'number' && Number.isInteger(v) && v >= 0;
    case 'string[]':
      return Array.isArray(v) && v.every((x) => typeof x === 'string');
    case 'object':
      return isRecord(v);
    case 'object[]':
      return Array.isArray(v) && v.every(isRecord);
    case 'string-map':
      return isRecord(v) && Object.values(v).every((x) => typeof x === 'string');
  }
}

const DESCRIBE: Record<Kind, string> = {
  string: 'a string',
  boolean: 'true or false',
  integer: 'a non-negative integer',
  'string[]': 'a list of strings',
  object: 'an object',
  'object[]': 'a list of objects',
  'string-map': 'an object of strings',
};

/** Sub-properties that must be strings inside the listed objects. */
const REQUIRED_STRINGS: Record<string, readonly string[]> = {
  external_references: ['source_name'],
  kill_chain_phases: ['kill_chain_name', 'phase_name'],
};

/** The first property with the wrong JSON type, as a message; undefined when all are right. */
export function propertyTypeProblem(o: Record<string, unknown>): string | undefined {
  for (const k of Object.keys(o)) {
    const kind = KINDS[k];
    if (kind === undefined) continue;
    const v = o[k];
    if (!matches(kind, v)) return `${k} must be ${DESCRIBE[kind]}`;
    const req = REQUIRED_STRINGS[k];
    if (req) {
      for (const item of v as Record<string, unknown>[]) {
        for (const r of req) if (typeof item[r] !== 'string') return `every ${k} item needs a string ${r}`;
      }
    }
  }
  return undefined;
}
