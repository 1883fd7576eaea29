import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ipv4Prefixes, ipv6Key, ipv6Prefixes } from './prefix-maps.js';
import { maskIpv4, parseIpv6 } from './ip-address.js';
import { at } from './indexed.js';
import { must } from '../../test/helpers/must.js';

/** A deterministic generator (xorshift32), so a failure names a reproducible case. */
function rng(seed: number): () => number {
  let x = seed | 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x1_0000_0000;
  };
}

test('IPv4 prefix maps answer "which networks contain this address or range" exactly like a linear scan, longest first', () => {
  const r = rng(20261207);
  const t = ipv4Prefixes<string>();
  const listed: { net: number; len: number }[] = [];
  for (let i = 0; i < 400; i++) {
    const len = Math.floor(r() * 33);
    const net = maskIpv4(Math.floor(r() * 0x1_0000_0000) & 0xff0fffff, len); // share the top bits often
    const m = t.mapOf(len);
    const key = t.keyOf(net, len);
    if (!m.has(key)) listed.push({ net, len });
    m.set(key, `${net}/${len}`);
  }
  for (let i = 0; i < 2000; i++) {
    const addr = i % 2 ? at(listed, i % listed.length).net : Math.floor(r() * 0x1_0000_0000);
    const maxLen = i % 3 ? 32 : Math.floor(r() * 33);
    const got: number[] = [];
    t.containing(addr, maxLen, (_v, _k, len) => void got.push(len));
    const want = listed
      .filter((n) => n.len <= maxLen && maskIpv4(addr, n.len) === n.net)
      .map((n) => n.len)
      .sort((a, b) => b - a);
    assert.deepEqual(got, want, `addr ${addr} maxLen ${maxLen}`);
  }
});

test('an emptied prefix length is forgotten; IPv6 keys cover only the prefix', () => {
  const t = ipv4Prefixes<number>();
  t.mapOf(8).set(t.keyOf(0x0a000000, 8), 1);
  let probes = 0;
  t.containing(0x0a010203, 32, () => void probes++);
  assert.equal(probes, 1);
  must(t.existing(8), 't.existing(8)').clear();
  t.dropIfEmpty(8);
  assert.equal(t.existing(8), undefined);
  probes = 0;
  t.containing(0x0a010203, 32, () => void probes++);
  assert.equal(probes, 0);

  const w = must(parseIpv6('2001:db8:abcd:12::1'), "parseIpv6('2001:db8:abcd:12::1')");
  assert.equal(ipv6Key(w, 32), '2001:db8:');
  assert.equal(ipv6Key(w, 36), '2001:db8:a000');
  assert.equal(ipv6Key(w, 0), '');
  const t6 = ipv6Prefixes<string>();
  t6.mapOf(32).set(ipv6Key(must(parseIpv6('2001:db8::'), "parseIpv6('2001:db8::')"), 32), '2001:db8::/32');
  const hits: string[] = [];
  t6.containing(w, 128, (v) => void hits.push(v));
  t6.containing(must(parseIpv6('2001:db9::1'), "parseIpv6('2001:db9::1')"), 128, (v) => void hits.push(v));
  assert.deepEqual(hits, ['2001:db8::/32']);
});
