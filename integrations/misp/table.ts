import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { StixgateError } from '../../src/core/errors.js';
import { DANGEROUS_KEYS } from '../../src/core/safe-json.js';

/** How one MISP attribute type is mapped (a row of `mappings/misp/attributes.yaml`). */
export interface AttributeRule {
  handler: 'ip' | 'ip_port' | 'domain' | 'domain_ip' | 'host_port' | 'url' | 'email' | 'hash' | 'filename_hash' | 'sco' | 'regkey_value' | 'rule' | 'sdo' | 'context';
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

const HANDLERS = new Set(['ip', 'ip_port', 'domain', 'domain_ip', 'host_port', 'url', 'email', 'hash', 'filename_hash', 'sco', 'regkey_value', 'rule', 'sdo', 'context']);
const SDO_TYPES = new Set(['attack-pattern', 'malware', 'tool', 'threat-actor', 'intrusion-set']);
const NEEDS: Record<string, string[]> = { hash: ['algorithm'], filename_hash: ['algorithm'], sco: ['sco', 'property'], ip_port: ['side'], email: ['role'], rule: ['pattern_type'], sdo: ['sdo'] };

function bad(file: string, message: string): StixgateError {
  return new StixgateError('STIXGATE_ERR_CONFIG_INVALID', `${file}: ${message}`, { location: { file } });
}

/** Validates a parsed table (the YAML document). Throws STIXGATE_ERR_CONFIG_INVALID naming the entry. */
export function parseMispTable(raw: unknown, file = 'mappings/misp/attributes.yaml'): MispTable {
  if (raw === null || typeof raw !== 'object') throw bad(file, 'not a mapping');
  const doc = raw as Record<string, unknown>;
  const attributes = new Map<string, AttributeRule>();
  const attrs = doc.attributes;
  if (attrs === null || typeof attrs !== 'object') throw bad(file, '`attributes` must be a mapping');
  for (const [type, v] of Object.entries(attrs as Record<string, unknown>)) {
    if (DANGEROUS_KEYS.has(type)) continue;
    if (v === null || typeof v !== 'object') throw bad(file, `attributes.${type} must be a mapping`);
    const rule = v as AttributeRule;
    if (!HANDLERS.has(rule.handler)) throw bad(file, `attributes.${type}.handler ${JSON.stringify(rule.handler)} is not one of ${[...HANDLERS].join(', ')}`);
    for (const k of NEEDS[rule.handler] ?? []) if (typeof (rule as unknown as Record<string, unknown>)[k] !== 'string') throw bad(file, `attributes.${type} needs \`${k}\``);
    attributes.set(type, { ...rule });
  }
  const galaxies = new Map<string, 'attack-pattern' | 'malware' | 'tool' | 'threat-actor' | 'intrusion-set'>();
  const gal = doc.galaxies ?? {};
  if (gal === null || typeof gal !== 'object') throw bad(file, '`galaxies` must be a mapping');
  for (const [type, v] of Object.entries(gal as Record<string, unknown>)) {
    if (DANGEROUS_KEYS.has(type)) continue;
    if (typeof v !== 'string' || !SDO_TYPES.has(v)) throw bad(file, `galaxies.${type} must be one of ${[...SDO_TYPES].join(', ')}`);
    galaxies.set(type, v as never);
  }
  return { attributes, galaxies };
}

/** Loads `mappings/misp/attributes.yaml` from the mappings directory. */
export function loadMispTable(mappingsDir: string): MispTable {
  const file = join(mappingsDir, 'misp', 'attributes.yaml');
  let raw: unknown;
  try {
    raw = parseYaml(readFileSync(file, 'utf8'));
  } catch (e) {
    throw bad(file, `cannot read: ${(e as Error).message.split('\n')[0]}`);
  }
  return parseMispTable(raw, file);
}
