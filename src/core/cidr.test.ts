import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  cidrContains,
  cidrProblem,
  cidrSet,
  CidrTable,
  cidrValue,
  formatCidr,
  isCidrText,
  lastIpv4,
  lastIpv6,
  parseCidr,
  readCidr,
  type Cidr,
} from './cidr.js';
import { formatIpv6, parseIpv4 } from './ip-address.js';
import { must } from '../../test/helpers/must.js';

const text = (s: string): string => formatCidr(must(parseCidr(s), s));

test('a range reads as its network and prefix length, host bits cleared, in canonical text', () => {
  assert.equal(text('10.1.2.3/8'), '10.0.0.0/8');
  assert.equal(text('192.0.2.7'), '192.0.2.7/32', 'a bare IPv4 address is its /32');
  assert.equal(text('2001:DB8:0:0::1/32'), '2001:db8::/32');
  assert.equal(text('2001:db8::1'), '2001:db8::1/128', 'a bare IPv6 address is its /128');
  assert.equal(cidrValue(must(parseCidr('192.0.2.7/32'), '/32')), '192.0.2.7', 'a full-length range is its address');
  assert.equal(cidrValue(must(parseCidr('2001:db8::1/128'), '/128')), '2001:db8::1');
  assert.equal(cidrValue(must(parseCidr('2001:db8::1/64'), '/64')), '2001:db8::/64');
});

test('/0, /32 and /128 are ranges like any other: /0 holds every address of its family and no other', () => {
  const all4 = must(parseCidr('1.2.3.4/0'), 'v4 /0');
  assert.deepEqual(all4, { v: 4, net: 0, len: 0 });
  assert.equal(formatCidr(all4), '0.0.0.0/0');
  const all6 = must(parseCidr('2001:db8::/0'), 'v6 /0');
  assert.equal(formatCidr(all6), '::/0');
  assert.equal(cidrContains(all4, must(parseCidr('255.255.255.255'), 'max')), true);
  assert.equal(cidrContains(all4, must(parseCidr('2001:db8::1'), 'v6')), false, 'never across families');
  assert.equal(cidrContains(all6, must(parseCidr('10.0.0.1'), 'v4')), false);
  assert.equal(cidrContains(all6, must(parseCidr('ffff::1'), 'v6 max')), true);
  const one = must(parseCidr('198.51.100.7/32'), '/32');
  assert.equal(cidrContains(one, must(parseCidr('198.51.100.7'), 'same')), true);
  assert.equal(cidrContains(one, must(parseCidr('198.51.100.8'), 'next')), false);
  const one6 = must(parseCidr('2001:db8::7/128'), '/128');
  assert.equal(cidrContains(one6, must(parseCidr('2001:db8::7'), 'same')), true);
  assert.equal(cidrContains(one6, must(parseCidr('2001:db8::8'), 'next')), false);
  assert.equal(lastIpv4(0, 0), 0xffffffff);
  assert.equal(lastIpv4(must(parseIpv4('10.0.0.0'), '10/8'), 8), must(parseIpv4('10.255.255.255'), 'end'));
  assert.equal(formatIpv6(lastIpv6(new Uint16Array(8), 0)), 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff');
  const doc = must(parseCidr('2001:db8::/33'), 'v6');
  assert.equal(doc.v === 6 && formatIpv6(lastIpv6(doc.words, 33)), '2001:db8:7fff:ffff:ffff:ffff:ffff:ffff');
});

test('a range contains the ranges inside it, not wider or overlapping ones', () => {
  const r = (s: string): Cidr => must(parseCidr(s), s);
  assert.equal(cidrContains(r('10.0.0.0/8'), r('10.20.0.0/16')), true);
  assert.equal(cidrContains(r('10.0.0.0/8'), r('10.0.0.0/8')), true);
  assert.equal(cidrContains(r('10.20.0.0/16'), r('10.0.0.0/8')), false, 'a wider range is not inside');
  assert.equal(cidrContains(r('10.0.0.0/30'), r('10.0.0.2/31')), true);
  assert.equal(cidrContains(r('10.0.0.2/31'), r('10.0.0.0/30')), false);
  assert.equal(cidrContains(r('2001:db8::/32'), r('2001:db8:ffff::/48')), true);
  assert.equal(cidrContains(r('2001:db8::/32'), r('2001:db9::/48')), false);
});

test('an IPv4-mapped IPv6 address or range (prefix ≥ 96) is the IPv4 address or range; shorter stays IPv6', () => {
  assert.equal(text('::ffff:192.0.2.1'), '192.0.2.1/32');
  assert.equal(text('::FFFF:c000:0201'), '192.0.2.1/32', 'hex words too');
  assert.equal(text('::ffff:192.0.2.0/120'), '192.0.2.0/24');
  assert.equal(text('::ffff:0:0/96'), '0.0.0.0/0');
  assert.equal(text('::ffff:0:0/95'), '::fffe:0:0/95', 'a range wider than the mapped block stays IPv6');
  const table = cidrSet(['192.0.2.0/24']);
  assert.equal(table.has(must(parseCidr('::ffff:192.0.2.99'), 'mapped')), true, 'matches the IPv4 entry');
});

test('bad input is refused with the part that is wrong and its position', () => {
  const cases: [string, 'address' | 'prefix', number, RegExp][] = [
    ['10.0.0.0/33', 'prefix', 9, /0 to 32/],
    ['2001:db8::/129', 'prefix', 11, /0 to 128/],
    ['10.0.0.0/', 'prefix', 9, /0 to 32/],
    ['10.0.0.0/08', 'prefix', 9, /whole number/],
    ['10.0.0.0/-1', 'prefix', 9, /whole number/],
    ['10.0.0.0/8/8', 'prefix', 9, /whole number/],
    ['::ffff:1.2.3.4/200', 'prefix', 15, /0 to 128/],
    ['300.1.1.1/8', 'address', 0, /neither IPv4 nor IPv6/],
    ['10.1/8', 'address', 0, /neither/],
    ['010.0.0.1', 'address', 0, /neither/],
    ['fe80::1%eth0', 'address', 0, /neither/],
    ['[::1]', 'address', 0, /neither/],
    [' 10.0.0.1', 'address', 0, /neither/],
    ['', 'address', 0, /neither/],
    ['example.com/24', 'address', 0, /neither/],
  ];
  for (const [input, part, at, message] of cases) {
    const r = readCidr(input);
    assert.equal(r.ok, false, input);
    if (r.ok) continue;
    assert.equal(r.part, part, input);
    assert.equal(r.at, at, input);
    assert.match(r.message, message, input);
    assert.equal(parseCidr(input), undefined, input);
  }
  assert.equal(cidrProblem('10.0.0.0/33'), 'the prefix length is not a whole number from 0 to 32, at character 10');
  assert.equal(cidrProblem('10.0.0.0/8'), undefined);
  assert.equal(isCidrText('10.0.0.0/8'), true);
  assert.equal(isCidrText('10.0.0.1'), false, 'a bare address is not written as a range');
  assert.equal(isCidrText('10.0.0.0/40'), false);
  assert.throws(
    () => cidrSet(['10.0.0.0/8', 'nope']),
    /invalid CIDR "nope": the address is neither IPv4 nor IPv6, at character 1/,
  );
});

test('a table answers the most specific listed range holding an address or a range; the first value of a range stays', () => {
  const t = new CidrTable<string>();
  for (const [range, v] of [
    ['0.0.0.0/0', 'all'],
    ['10.0.0.0/8', 'ten'],
    ['10.1.0.0/16', 'ten-one'],
    ['10.1.0.0/16', 'again'],
    ['2001:db8::/32', 'doc6'],
  ] as const)
    t.add(must(parseCidr(range), range), v);
  assert.equal(t.size, 4, 'a range listed twice counts once');
  const at = (s: string): string | undefined => t.longest(must(parseCidr(s), s));
  assert.equal(at('10.1.2.3'), 'ten-one');
  assert.equal(at('10.2.0.1'), 'ten');
  assert.equal(at('10.0.0.0/8'), 'ten');
  assert.equal(at('10.0.0.0/7'), 'all', 'a range wider than /8 lies only in /0');
  assert.equal(at('192.0.2.1'), 'all');
  assert.equal(at('2001:db8::1'), 'doc6');
  assert.equal(at('2001:db9::1'), undefined, 'no IPv6 /0 is listed');
  assert.equal(t.has(must(parseCidr('2001:db9::1'), 'v6')), false);
});
