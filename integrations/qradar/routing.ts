import { StixgateError } from '../../src/core/errors.js';
import { isCidrText } from '../../src/core/cidr.js';
import { parseIpv4 } from '../../src/core/ip-address.js';
import type { Observable } from '../../src/core/stix.js';
import { ROUTE_KEYS, type RouteKey } from './schema.js';

/** Which reference set an observable goes to: the `sets:` section of mappings/sinks/qradar.yaml. */

export const SET_ELEMENT_TYPES = ['ALN', 'ALNIC', 'IP', 'NUM', 'PORT', 'DATE', 'CIDR'] as const;
export type SetElementType = (typeof SET_ELEMENT_TYPES)[number];

export interface SetRoute {
  key: RouteKey;
  name: string;
  elementType: SetElementType;
}

const HASH_KEYS: Record<string, string> = { MD5: 'md5', 'SHA-1': 'sha1', 'SHA-256': 'sha256', 'SHA-512': 'sha512' };

/** The routing key of an observable, e.g. `ipv4-cidr`, `file-sha256`; undefined when none fits. */
export function routeKeyOf(o: Observable): RouteKey | undefined {
  let k: string;
  switch (o.type) {
    case 'ipv4-addr':
      k = o.cidr ? 'ipv4-cidr' : 'ipv4-addr';
      break;
    case 'ipv6-addr':
      k = o.cidr ? 'ipv6-cidr' : 'ipv6-addr';
      break;
    case 'file':
      k = `file-${HASH_KEYS[o.hash ?? ''] ?? '?'}`;
      break;
    case 'x509-certificate':
      k = `x509-${HASH_KEYS[o.hash ?? ''] ?? '?'}`;
      break;
    default:
      k = o.type;
  }
  return (ROUTE_KEYS as readonly string[]).includes(k) ? (k as RouteKey) : undefined;
}

/** Reads the `sets:` section; names get `prefix` unless `overrides` names the set outright. */
export function loadRoutes(
  table: Record<string, unknown>,
  path: string,
  prefix: string,
  overrides: Record<string, string>,
): Map<RouteKey, SetRoute> {
  const sets = table.sets;
  const bad = (msg: string) => new StixgateError('STIXGATE_ERR_CONFIG_INVALID', `sink mapping ${path}: ${msg}`);
  if (!sets || typeof sets !== 'object' || Array.isArray(sets))
    throw bad('"sets" must map routing keys to { name, element_type }');
  const out = new Map<RouteKey, SetRoute>();
  for (const [key, v] of Object.entries(sets as Record<string, unknown>)) {
    if (!(ROUTE_KEYS as readonly string[]).includes(key))
      throw bad(`sets.${key}: unknown routing key (known: ${ROUTE_KEYS.join(', ')})`);
    const e = v as { name?: unknown; element_type?: unknown };
    if (!e || typeof e !== 'object' || typeof e.name !== 'string' || e.name === '')
      throw bad(`sets.${key}.name must be a non-empty string`);
    if (typeof e.element_type !== 'string' || !(SET_ELEMENT_TYPES as readonly string[]).includes(e.element_type))
      throw bad(`sets.${key}.element_type must be one of ${SET_ELEMENT_TYPES.join(', ')}`);
    out.set(key as RouteKey, {
      key: key as RouteKey,
      name: overrides[key] ?? `${prefix}${e.name}`,
      elementType: e.element_type as SetElementType,
    });
  }
  for (const key of Object.keys(overrides))
    if (!out.has(key as RouteKey))
      throw bad(`the sink option sets.${key} names a routing key the table does not route`);
  return out;
}

/** Why QRadar would refuse a value for a set of this type (checked before sending), or undefined. */
export function refusedValue(type: SetElementType, value: string): string | undefined {
  if (type === 'IP' && parseIpv4(value) === undefined)
    return `not an IPv4 address: an IP reference set takes IPv4 only (value ${value})`;
  if (type === 'CIDR' && !isCidrText(value)) return `not a CIDR range (value ${value})`;
  if ((type === 'NUM' || type === 'PORT' || type === 'DATE') && !/^\d+$/.test(value))
    return `not a number for a ${type} reference set (value ${value})`;
  return undefined;
}

/** How sets compare values: ALNIC ignores case. */
export const valueKey = (type: SetElementType, v: string): string => (type === 'ALNIC' ? v.toLowerCase() : v);
