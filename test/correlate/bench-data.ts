import { createHash } from 'node:crypto';
import type { StixObject } from '../../src/core/stix.js';
import { ind, rel, sid } from './fixtures.js';

const md5 = (s: string) => createHash('md5').update(s).digest('hex');
const ip = (n: number) => `10.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;

/**
 * Indicator i of N and the relationship it brings (files indicate one of 100 malware families):
 * IPv4 with shared and hot values, CIDRs, domains, URLs on those domains, file hashes, IPv6.
 */
export function benchObjects(i: number, N: number): StixObject[] {
  const k = i % 20;
  const vi = (i * 7919) % Math.floor(N * 0.9); // ~10% of values are shared by two indicators
  let pattern: string;
  if (i % 100 === 0)
    pattern = "[ipv4-addr:value = '192.0.2.1']"; // one hot value held by 1% of all indicators
  else if (k <= 10) pattern = `[ipv4-addr:value = '${ip(vi)}']`;
  else if (k <= 12) pattern = `[domain-name:value = 'd${vi % 5000}.example${vi % 50}.com']`;
  else if (k <= 15)
    pattern =
      i % 7 === 0
        ? `[url:value = 'http://s${i}.hot.example/p']`
        : `[url:value = 'http://d${vi % 5000}.example${vi % 50}.com/p${i}']`;
  else if (k <= 17) pattern = `[file:hashes.MD5 = '${md5(String(vi))}']`;
  else if (k === 18)
    pattern = i % 19 === 0 ? "[domain-name:value = 'hot.example']" : `[ipv4-addr:value = '${ip(vi & ~255)}/24']`;
  else pattern = `[ipv6-addr:value = '2001:db8::${(vi & 0xffff).toString(16)}']`;
  const out: StixObject[] = [ind(i + 1, pattern)];
  if (k === 16 || k === 17) out.push(rel(i + 1, sid('indicator', i + 1), 'indicates', sid('malware', 1 + (i % 100))));
  return out;
}
