import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { StixgateError } from '../../src/core/errors.js';
import type { HashAlgorithm, ObservableType } from '../../src/core/stix.js';

export type OtxTypeRule = { observable: ObservableType | 'auto'; hash?: HashAlgorithm } | { object: 'vulnerability' };

export interface OtxTypeTable {
  types: Map<string, OtxTypeRule>;
  unmapped: Set<string>;
}

const OBSERVABLES = new Set(['ipv4-addr', 'ipv6-addr', 'domain-name', 'url', 'email-addr', 'file', 'x509-certificate', 'auto']);
const HASHES = new Set(['MD5', 'SHA-1', 'SHA-256', 'SHA-512']);

/** Reads `mappings/otx/indicator-types.yaml`; a bad table is a configuration error. */
export function loadOtxTypes(mappingsDir: string): OtxTypeTable {
  const file = join(mappingsDir, 'otx', 'indicator-types.yaml');
  const bad = (msg: string) => new StixgateError('STIXGATE_ERR_CONFIG_INVALID', `${file}: ${msg}`, { reason: 'mapping' });
  let raw: any;
  try {
    raw = parseYaml(readFileSync(file, 'utf8'));
  } catch (e) {
    throw bad(`could not be read (${(e as Error).message.slice(0, 200)})`);
  }
  const types = new Map<string, OtxTypeRule>();
  for (const [name, rule] of Object.entries((raw?.types ?? {}) as Record<string, any>)) {
    if (rule?.object === 'vulnerability') types.set(name, { object: 'vulnerability' });
    else if (OBSERVABLES.has(rule?.observable) && (rule.hash === undefined || HASHES.has(rule.hash))) types.set(name, { observable: rule.observable, hash: rule.hash });
    else throw bad(`types.${name}: needs observable (${[...OBSERVABLES].join(', ')}) with an optional hash, or object: vulnerability`);
  }
  return { types, unmapped: new Set(Array.isArray(raw?.unmapped) ? raw.unmapped.map(String) : []) };
}
