import { StixgateError } from '../../src/core/errors.js';
import { join } from 'node:path';
import { DANGEROUS_KEYS } from '../../src/core/safe-json.js';
import { s, type Issue } from '../../src/core/schema.js';
import { loadYamlTable, TABLE_KEY } from '../../src/core/yaml-document.js';

/** How one MISP attribute type is mapped (a row of `mappings/misp/attributes.yaml`). */
export interface AttributeRule {
  handler:
    | 'ip'
    | 'ip_port'
    | 'domain'
    | 'domain_ip'
    | 'host_port'
    | 'url'
    | 'email'
    | 'hash'
    | 'filename_hash'
    | 'sco'
    | 'regkey_value'
    | 'rule'
    | 'sdo'
    | 'context';
  side?: 'src' | 'dst';
  role?: 'addr' | 'from' | 'to' | 'reply_to';
  algorithm?: string;
  on?: 'file' | 'x509-certificate';
  sco?: string;
  property?: string;
  integer?: boolean;
  /** `rule`: the indicator's pattern_type (yara, snort, suricata, sigma, pcre) */
  pattern_type?: string;
  /** `sdo`: the STIX domain object made from the value */
  sdo?: 'vulnerability' | 'campaign';
}

export interface MispTable {
  attributes: ReadonlyMap<string, AttributeRule>;
  /** galaxy type → STIX SDO type */
  galaxies: ReadonlyMap<string, 'attack-pattern' | 'malware' | 'tool' | 'threat-actor' | 'intrusion-set'>;
}

const HANDLERS = [
  'ip',
  'ip_port',
  'domain',
  'domain_ip',
  'host_port',
  'url',
  'email',
  'hash',
  'filename_hash',
  'sco',
  'regkey_value',
  'rule',
  'sdo',
  'context',
] as const;
const SDO_TYPES = ['attack-pattern', 'malware', 'tool', 'threat-actor', 'intrusion-set'] as const;
const NEEDS: Record<string, (keyof AttributeRule)[]> = {
  hash: ['algorithm'],
  filename_hash: ['algorithm'],
  sco: ['sco', 'property'],
  ip_port: ['side'],
  email: ['role'],
  rule: ['pattern_type'],
  sdo: ['sdo'],
};

/**
 * A parameter of `rule` that its handler needs (NEEDS). The table check guarantees it for every
 * loaded table; a table built in code without it is a configuration error naming the parameter.
 */
export function param<K extends keyof AttributeRule>(rule: AttributeRule, k: K): NonNullable<AttributeRule[K]> {
  const v = rule[k];
  if (v === undefined || v === null)
    throw new StixgateError(
      'STIXGATE_ERR_CONFIG_INVALID',
      `MISP attribute table: handler ${rule.handler} needs \`${k}\``,
      {
        location: { path: `attributes.*.${k}` },
        reason: 'table_parameter_missing',
      },
    );
  return v;
}

const name = (hint: string) => s.string({ maxLength: 100, description: hint, optional: true });

/** `mappings/misp/attributes.yaml`: MISP attribute type → handler and its parameters; galaxy type → SDO type. */
export const mispTableSchema = s.object({
  attributes: s.record(
    s.object({
      handler: s.enum(HANDLERS),
      side: s.enum(['src', 'dst'], { optional: true }),
      role: s.enum(['addr', 'from', 'to', 'reply_to'], { optional: true }),
      algorithm: name('hash algorithm'),
      on: s.enum(['file', 'x509-certificate'], { optional: true }),
      sco: name('SCO type'),
      property: name('SCO property'),
      integer: s.bool({ optional: true }),
      pattern_type: name('indicator pattern_type'),
      sdo: s.enum(['vulnerability', 'campaign'], { optional: true }),
    }),
    { keyPattern: TABLE_KEY },
  ),
  galaxies: s.record(s.enum(SDO_TYPES), { default: {}, keyPattern: TABLE_KEY }),
});

function needs(t: { attributes: Record<string, AttributeRule> }): Issue[] {
  const issues: Issue[] = [];
  for (const [type, rule] of Object.entries(t.attributes)) {
    for (const k of NEEDS[rule.handler] ?? [])
      if (rule[k] === undefined)
        issues.push({ path: `attributes.${type}`, message: `handler ${rule.handler} needs \`${k}\`` });
  }
  return issues;
}

/** Reads a MISP attribute table; a bad entry is a configuration error naming the entry and its line. */
export function loadMispTableFile(file: string): MispTable {
  const t = loadYamlTable(file, mispTableSchema, { what: 'MISP attribute table', check: needs });
  const attributes = new Map<string, AttributeRule>();
  for (const [type, rule] of Object.entries(t.attributes))
    if (!DANGEROUS_KEYS.has(type)) attributes.set(type, { ...rule });
  const galaxies = new Map<string, (typeof SDO_TYPES)[number]>();
  for (const [type, sdo] of Object.entries(t.galaxies)) if (!DANGEROUS_KEYS.has(type)) galaxies.set(type, sdo);
  return { attributes, galaxies };
}

/** Loads `mappings/misp/attributes.yaml` from the mappings directory. */
export function loadMispTable(mappingsDir: string): MispTable {
  return loadMispTableFile(join(mappingsDir, 'misp', 'attributes.yaml'));
}
