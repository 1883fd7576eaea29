import { test } from 'node:test';
import assert from 'node:assert/strict';
import { detectObservable } from '../../src/core/observable.js';
import { accessPolicy } from '../../src/access/policy.js';
import { LookupIndex } from '../../src/lookup/index.js';
import { T0, change, indicator, uuidId } from './fixtures.js';
import { must } from '../helpers/must.js';

const SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
const MD5 = 'd41d8cd98f00b204e9800998ecf8427e';

function indexWith(patterns: string[], opts: ConstructorParameters<typeof LookupIndex>[0] = {}): LookupIndex {
  const index = new LookupIndex({ now: () => T0, ...opts });
  for (const [i, pattern] of patterns.entries()) index.apply(change(indicator({ n: i + 1, pattern })));
  return index;
}

function ids(
  index: LookupIndex,
  raw: string,
  maxTlp: 'clear' | 'green' | 'amber' | 'amber+strict' | 'red' = 'amber',
): string[] {
  return index.lookup(raw, T0, maxTlp).indicators.map((i) => `${i.id.slice(-3)}:${i.match}:${i.matched_value}`);
}

test('exact hits and misses for every observable type', () => {
  const index = indexWith([
    "[ipv4-addr:value = '198.51.100.7']",
    "[ipv6-addr:value = '2001:db8::1']",
    "[domain-name:value = 'evil.example']",
    "[url:value = 'http://bad.example/x.exe']",
    "[email-addr:value = 'phish@bad.example']",
    `[file:hashes.'SHA-256' = '${SHA256}']`,
    `[file:hashes.MD5 = '${MD5}']`,
  ]);
  assert.deepEqual(ids(index, '198.51.100.7'), ['001:exact:198.51.100.7']);
  assert.deepEqual(ids(index, '2001:DB8:0:0::1'), ['002:exact:2001:db8::1']);
  assert.deepEqual(ids(index, 'EVIL.example'), ['003:exact:evil.example']);
  assert.deepEqual(ids(index, 'http://bad.example/x.exe'), ['004:exact:http://bad.example/x.exe']);
  assert.deepEqual(ids(index, 'phish@bad.example'), ['005:exact:phish@bad.example']);
  assert.deepEqual(ids(index, SHA256.toUpperCase()), [`006:exact:${SHA256}`]);
  assert.deepEqual(ids(index, MD5), [`007:exact:${MD5}`]);
  for (const miss of [
    '198.51.100.8',
    '2001:db8::2',
    'good.example',
    'http://bad.example/y.exe',
    'other@bad.example',
    SHA256.replace('e3', 'e4'),
  ]) {
    const r = index.lookup(miss, T0, 'amber');
    assert.equal(r.matched, false, miss);
    assert.deepEqual(r.indicators, []);
    assert.equal(r.invalid, undefined);
  }
  assert.deepEqual(index.sizes(), {
    indicators: 7,
    ipv4: 1,
    ipv6: 1,
    ipv4_cidr: 0,
    ipv6_cidr: 0,
    domain: 1,
    url: 1,
    email: 1,
    hash: 2,
    x509: 0,
  });
});

test('issue 18: an IPv4-mapped IPv6 address (::ffff:a.b.c.d, any spelling) is the IPv4 address, on both sides', () => {
  const index = indexWith([
    "[ipv4-addr:value = '1.2.3.6']",
    "[ipv4-addr:value = '203.0.113.0/24']",
    "[ipv6-addr:value = '::ffff:198.51.100.9']",
  ]);
  for (const q of ['::ffff:1.2.3.6', '::FFFF:1.2.3.6', '0:0:0:0:0:ffff:102:306', '::ffff:0102:0306']) {
    assert.deepEqual(ids(index, q), ['001:exact:1.2.3.6'], q);
    assert.equal(index.lookup(q, T0, 'amber').value, '1.2.3.6');
  }
  assert.deepEqual(ids(index, '::ffff:203.0.113.77'), ['002:cidr:203.0.113.0/24']);
  // an indicator written with the mapped form matches the plain IPv4 query
  assert.deepEqual(ids(index, '198.51.100.9'), ['003:exact:198.51.100.9']);
  // not mapped: the IPv4-compatible (::a.b.c.d, deprecated) and NAT64 forms stay IPv6
  assert.equal(index.lookup('::1.2.3.6', T0, 'amber').type, 'ipv6-addr');
  assert.equal(index.lookup('64:ff9b::1.2.3.6', T0, 'amber').type, 'ipv6-addr');
  assert.equal(index.lookup('::ffff:1.2.3.6', T0, 'amber').type, 'ipv4-addr');
});

test('result carries canonical value, type and indicator details', () => {
  const index = new LookupIndex({ now: () => T0 });
  const ind = indicator({
    n: 42,
    pattern: "[ipv4-addr:value = '203.0.113.9']",
    tlp: 'amber',
    score: 73,
    labels: ['c2'],
    validUntil: T0 + 86_400_000,
    sources: {
      feed_b: { first_seen: '2026-01-05T00:00:00.000Z', last_seen: '2026-02-10T00:00:00.000Z', labels: ['botnet'] },
      feed_a: { first_seen: '2026-01-03T00:00:00.000Z', last_seen: '2026-02-01T00:00:00.000Z' },
    },
  });
  must(ind.x_stixgate, 'ind.x_stixgate').sightings = {
    count: 3,
    first_seen: '2026-02-11T00:00:00.000Z',
    last_seen: '2026-02-12T00:00:00.000Z',
  };
  index.apply(change(ind));
  assert.deepEqual(index.lookup('203.0.113[.]9', T0, 'amber'), {
    value: '203.0.113.9',
    type: 'ipv4-addr',
    matched: true,
    indicators: [
      {
        id: uuidId(42),
        match: 'exact',
        matched_value: '203.0.113.9',
        score: 73,
        tlp: 'amber',
        labels: ['botnet', 'c2'],
        sources: ['feed_a', 'feed_b'],
        first_seen: '2026-01-03T00:00:00.000Z',
        last_seen: '2026-02-10T00:00:00.000Z',
        valid_until: '2026-03-02T00:00:00.000Z',
        sightings: 3,
      },
    ],
  });
});

test('invalid input is answered with a reason, not matched', () => {
  const index = indexWith(["[ipv4-addr:value = '198.51.100.7']"]);
  const r = index.lookup('', T0, 'amber');
  assert.equal(r.matched, false);
  assert.equal(typeof r.invalid, 'string');
  assert.ok(must(r.invalid, 'r.invalid').length > 0);
  assert.deepEqual(r.indicators, []);
  assert.equal(r.value, '');
});

test('IPv4 CIDR containment with nested ranges, most specific first', () => {
  const index = indexWith([
    "[ipv4-addr:value = '10.0.0.0/8']",
    "[ipv4-addr:value = '10.1.0.0/16']",
    "[ipv4-addr:value = '10.1.2.0/24']",
    "[ipv4-addr:value = '10.1.2.3']",
    "[ipv4-addr:value = '0.0.0.0/1']",
    // a /0 (stored before the value gate refused it) matches nothing: it is not a valid value
    "[ipv4-addr:value = '0.0.0.0/0']",
  ]);
  assert.deepEqual(ids(index, '10.1.2.3'), [
    '004:exact:10.1.2.3',
    '003:cidr:10.1.2.0/24',
    '002:cidr:10.1.0.0/16',
    '001:cidr:10.0.0.0/8',
    '005:cidr:0.0.0.0/1',
  ]);
  assert.deepEqual(ids(index, '10.1.9.9'), ['002:cidr:10.1.0.0/16', '001:cidr:10.0.0.0/8', '005:cidr:0.0.0.0/1']);
  assert.deepEqual(ids(index, '127.255.255.255'), ['005:cidr:0.0.0.0/1']);
  assert.deepEqual(ids(index, '255.255.255.255'), []);
  // a looked-up range reports the listed ranges that contain it
  assert.deepEqual(ids(index, '10.1.0.0/16'), ['002:cidr:10.1.0.0/16', '001:cidr:10.0.0.0/8', '005:cidr:0.0.0.0/1']);
  assert.equal(index.sizes().ipv4_cidr, 4);
});

test('IPv6 CIDR containment with nested ranges', () => {
  const index = indexWith([
    "[ipv6-addr:value = '2001:db8::/32']",
    "[ipv6-addr:value = '2001:db8:abcd::/48']",
    "[ipv6-addr:value = '2001:db8:abcd:12::/63']",
  ]);
  assert.deepEqual(ids(index, '2001:db8:abcd:13::5'), [
    '003:cidr:2001:db8:abcd:12::/63',
    '002:cidr:2001:db8:abcd::/48',
    '001:cidr:2001:db8::/32',
  ]);
  assert.deepEqual(ids(index, '2001:db8:ffff::1'), ['001:cidr:2001:db8::/32']);
  assert.deepEqual(ids(index, '2001:db9::1'), []);
  assert.equal(index.sizes().ipv6_cidr, 3);
});

test('a URL reports a listed domain of its host, and parent domains when enabled', () => {
  const patterns = [
    "[domain-name:value = 'evil.com']",
    "[domain-name:value = 'cdn.evil.com']",
    "[ipv4-addr:value = '192.0.2.0/24']",
  ];
  const index = indexWith(patterns);
  assert.deepEqual(ids(index, 'hxxp://a.cdn.evil[.]com/payload'), ['002:domain:cdn.evil.com', '001:domain:evil.com']);
  assert.deepEqual(ids(index, 'https://cdn.evil.com/'), ['002:domain:cdn.evil.com', '001:domain:evil.com']);
  assert.deepEqual(ids(index, 'a.evil.com'), ['001:domain:evil.com']);
  assert.deepEqual(ids(index, 'cdn.evil.com'), ['002:exact:cdn.evil.com', '001:domain:evil.com']);
  assert.deepEqual(ids(index, 'notevil.com'), []);
  assert.deepEqual(ids(index, 'http://192.0.2.44/x'), ['003:domain:192.0.2.0/24']);
  const v6 = indexWith(["[ipv6-addr:value = '2001:db8::5']", "[ipv6-addr:value = '2001:db8::/64']"]);
  assert.deepEqual(ids(v6, 'http://[2001:db8::5]:8080/x'), ['001:domain:2001:db8::5', '002:domain:2001:db8::/64']);

  const strict = indexWith(patterns, { matchParentDomains: false });
  assert.deepEqual(ids(strict, 'a.evil.com'), []);
  assert.deepEqual(ids(strict, 'http://cdn.evil.com/x'), ['002:domain:cdn.evil.com']);
});

test('TLP filtering: indicators above maxTlp are omitted and the value becomes a miss', () => {
  const index = new LookupIndex({ now: () => T0 });
  index.apply(change(indicator({ n: 1, pattern: "[domain-name:value = 'x.example']", tlp: 'clear' })));
  index.apply(change(indicator({ n: 2, pattern: "[domain-name:value = 'x.example']", tlp: 'amber' })));
  index.apply(change(indicator({ n: 3, pattern: "[domain-name:value = 'y.example']", tlp: 'red' })));
  assert.deepEqual(ids(index, 'x.example', 'clear'), ['001:exact:x.example']);
  assert.deepEqual(ids(index, 'x.example', 'green'), ['001:exact:x.example']);
  assert.deepEqual(ids(index, 'x.example', 'amber'), ['001:exact:x.example', '002:exact:x.example']);
  assert.equal(index.lookup('y.example', T0, 'amber+strict').matched, false);
  assert.deepEqual(ids(index, 'y.example', 'red'), ['003:exact:y.example']);
});

test("a contribution with no recorded TLP takes default_tlp (amber unless configured), never its object's marking", () => {
  const obj = indicator({ n: 1, pattern: "[domain-name:value = 'z.example']", tlp: 'clear' });
  delete must(must(obj.x_stixgate, 'obj.x_stixgate').sources.feed_a, 'obj.x_stixgate.sources.feed_a').tlp;
  const index = new LookupIndex({ now: () => T0 });
  index.apply(change(obj));
  assert.equal(
    index.lookup('z.example', T0, 'green').matched,
    false,
    'the CLEAR marking of the content does not count',
  );
  assert.equal(
    must(index.lookup('z.example', T0, 'amber').indicators[0], "index.lookup('z.example', T0, 'amber').indicators[0]")
      .tlp,
    'amber',
  );
  const strict = new LookupIndex({ now: () => T0, access: accessPolicy({ defaultTlp: 'red' }) });
  strict.apply(change(obj));
  assert.equal(strict.lookup('z.example', T0, 'amber+strict').matched, false);
  assert.equal(
    must(strict.lookup('z.example', T0, 'red').indicators[0], "strict.lookup('z.example', T0, 'red').indicators[0]")
      .tlp,
    'red',
  );
});

test('per-source views: a CLEAR and a RED source on one value; each reader sees its own contributions', () => {
  const index = new LookupIndex({ now: () => T0 });
  const seen = { first_seen: '2026-01-02T00:00:00.000Z', last_seen: '2026-02-01T00:00:00.000Z' };
  index.apply(
    change(
      indicator({
        n: 1,
        pattern: "[ipv4-addr:value = '198.51.100.7']",
        labels: ['c2'],
        sources: {
          open: { ...seen, labels: ['open-label'], tlp: 'clear' },
          closed: {
            first_seen: '2025-12-01T00:00:00.000Z',
            last_seen: '2026-02-20T00:00:00.000Z',
            labels: ['closed-label'],
            tlp: 'red',
          },
        },
      }),
    ),
  );
  const clear = index.lookup('198.51.100.7', T0, 'clear').indicators;
  assert.equal(clear.length, 1);
  assert.deepEqual(must(clear[0], 'clear[0]').sources, ['open']);
  assert.deepEqual(must(clear[0], 'clear[0]').labels, ['open-label']);
  assert.equal(must(clear[0], 'clear[0]').tlp, 'clear');
  assert.equal(must(clear[0], 'clear[0]').first_seen, seen.first_seen);
  assert.equal(must(clear[0], 'clear[0]').last_seen, seen.last_seen);
  const red = index.lookup('198.51.100.7', T0, 'red').indicators;
  assert.deepEqual(must(red[0], 'red[0]').sources, ['closed', 'open']);
  assert.equal(must(red[0], 'red[0]').tlp, 'red');
  assert.equal(must(red[0], 'red[0]').first_seen, '2025-12-01T00:00:00.000Z');
});

test('expiry by the injected clock: not listed when already expired, hidden at lookup, removed by sweep', () => {
  let now = T0;
  const index = new LookupIndex({ now: () => now });
  index.apply(change(indicator({ n: 1, pattern: "[ipv4-addr:value = '192.0.2.1']", validUntil: T0 - 1 })));
  assert.equal(index.size, 0);
  index.apply(change(indicator({ n: 2, pattern: "[ipv4-addr:value = '192.0.2.2']", validUntil: T0 + 60_000 })));
  index.apply(change(indicator({ n: 3, pattern: "[ipv4-addr:value = '192.0.2.3']" })));
  assert.equal(index.lookup('192.0.2.2', T0, 'amber').matched, true);
  assert.equal(index.lookup('192.0.2.2', T0 + 60_000, 'amber').matched, false);
  now = T0 + 60_000;
  assert.equal(index.sweep(), 1);
  assert.equal(index.size, 1);
  assert.equal(index.sizes().ipv4, 1);
  assert.equal(index.lookup('192.0.2.3', T0 + 1e12, 'amber').matched, true);
});

test('revoke and expire changes remove; an update replaces the values of that indicator', () => {
  const index = new LookupIndex({ now: () => T0 });
  index.apply(
    change(indicator({ n: 1, pattern: "[ipv4-addr:value = '192.0.2.1'] OR [domain-name:value = 'one.example']" })),
  );
  index.apply(change(indicator({ n: 2, pattern: "[ipv4-addr:value = '192.0.2.1']" })));
  assert.deepEqual(ids(index, '192.0.2.1'), ['001:exact:192.0.2.1', '002:exact:192.0.2.1']);
  index.apply(change(indicator({ n: 1, pattern: "[domain-name:value = 'two.example']" })));
  assert.deepEqual(ids(index, '192.0.2.1'), ['002:exact:192.0.2.1']);
  assert.deepEqual(ids(index, 'one.example'), []);
  assert.deepEqual(ids(index, 'two.example'), ['001:exact:two.example']);
  index.apply(change(indicator({ n: 2, pattern: "[ipv4-addr:value = '192.0.2.1']", revoked: true }), 'revoke'));
  assert.deepEqual(ids(index, '192.0.2.1'), []);
  index.apply(change(indicator({ n: 1, pattern: "[domain-name:value = 'two.example']" }), 'expire'));
  assert.deepEqual(ids(index, 'two.example'), []);
  assert.equal(index.size, 0);
  assert.deepEqual(index.sizes(), {
    indicators: 0,
    ipv4: 0,
    ipv6: 0,
    ipv4_cidr: 0,
    ipv6_cidr: 0,
    domain: 0,
    url: 0,
    email: 0,
    hash: 0,
    x509: 0,
  });
  // slots are reused and the id table still finds everything after churn
  for (let n = 10; n < 2000; n++)
    index.apply(change(indicator({ n, pattern: `[ipv4-addr:value = '10.0.${n >> 8}.${n & 255}']` })));
  for (let n = 10; n < 2000; n += 2)
    index.apply(change(indicator({ n, pattern: "[ipv4-addr:value = '1.1.1.1']" }), 'revoke'));
  assert.equal(index.size, 995);
  assert.equal(
    must(index.lookup('10.0.0.11', T0, 'amber').indicators[0], "index.lookup('10.0.0.11', T0, 'amber').indicators[0]")
      .id,
    uuidId(11),
  );
  assert.equal(
    must(index.lookup('10.0.7.207', T0, 'amber').indicators[0], "index.lookup('10.0.7.207', T0, 'amber').indicators[0]")
      .id,
    uuidId(2000 - 1),
  );
  assert.equal(index.lookup('10.0.0.12', T0, 'amber').matched, false);
});

test('non-indicator changes and non-stix patterns are ignored; odd ids are kept verbatim', () => {
  const index = new LookupIndex({ now: () => T0 });
  index.apply(change({ type: 'ipv4-addr', id: 'ipv4-addr--00000000-0000-4000-8000-000000000001', value: '192.0.2.1' }));
  index.apply(change({ ...indicator({ n: 5, pattern: "[ipv4-addr:value = '192.0.2.1']" }), pattern_type: 'sigma' }));
  assert.equal(index.size, 0);
  const odd = {
    ...indicator({ n: 6, pattern: "[ipv4-addr:value = '192.0.2.1']" }),
    id: 'indicator--ABCDEF00-0000-4000-8000-000000000001',
  };
  index.apply(change(odd));
  assert.equal(
    must(index.lookup('192.0.2.1', T0, 'amber').indicators[0], "index.lookup('192.0.2.1', T0, 'amber').indicators[0]")
      .id,
    'indicator--ABCDEF00-0000-4000-8000-000000000001',
  );
  assert.equal(index.seq > 0, true);
});

test('the fast path for canonical IPv4 and hashes agrees with detectObservable', async () => {
  const inputs = [
    '1.2.3.4',
    '255.255.255.255',
    '0.0.0.0',
    MD5,
    SHA256,
    'da39a3ee5e6b4b0d3255bfef95601890afd80709',
    'f'.repeat(128),
  ];
  const index = new LookupIndex({ now: () => T0 });
  for (const v of inputs) {
    const d = detectObservable(v);
    assert.equal(d.ok, true, v);
    const r = index.lookup(v, T0, 'amber');
    if (d.ok) assert.deepEqual([r.value, r.type], [d.observable.value, d.observable.type], v);
  }
  // near misses go through the normaliser and answer exactly what it says
  for (const v of ['01.2.3.4', ' 1.2.3.4', SHA256.toUpperCase(), `${MD5}0`, '1.2.3[.]4']) {
    const d = detectObservable(v);
    const r = index.lookup(v, T0, 'amber');
    assert.deepEqual(
      [r.value, r.type, r.invalid],
      d.ok ? [d.observable.value, d.observable.type, undefined] : [v, undefined, d.reason],
      v,
    );
  }
});

test('domain filter: no false negatives across growth, removals and rebuilds', () => {
  const index = new LookupIndex({ now: () => T0 });
  const N = 6000;
  for (let n = 1; n <= N; n++)
    index.apply(change(indicator({ n, pattern: `[domain-name:value = 'd${n}.zone${n % 7}.example']` })));
  for (let n = 1; n <= N; n += 3)
    index.apply(change(indicator({ n, pattern: "[domain-name:value = 'x.example']" }), 'revoke'));
  let hits = 0;
  for (let n = 1; n <= N; n++) {
    const r = index.lookup(`http://www.d${n}.zone${n % 7}.example/p`, T0, 'amber');
    assert.equal(r.matched, (n - 1) % 3 !== 0, `d${n}`);
    if (r.matched) {
      assert.deepEqual(
        [
          must(r.indicators[0], 'r.indicators[0]').id,
          must(r.indicators[0], 'r.indicators[0]').match,
          must(r.indicators[0], 'r.indicators[0]').matched_value,
        ],
        [uuidId(n), 'domain', `d${n}.zone${n % 7}.example`],
      );
      hits++;
    }
  }
  assert.equal(hits, 4000);
  assert.equal(index.sizes().domain, 4000);
});
