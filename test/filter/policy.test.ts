/**
 * The publish decision (warninglists, publish allowlist, trusted sources), per-list counts and
 * the configuration schema fragment.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PublishFilter } from '../../src/filter/policy.js';
import { compileAllowlist } from '../../src/filter/allowlist.js';
import { WarninglistMatcher, parseWarninglist } from '../../src/filter/warninglists.js';
import {
  filterConfigSchema,
  trustedSourceSchema,
  publishAllowlistSchema,
  warninglistsSchema,
} from '../../src/filter/schema.js';
import { s, validate } from '../../src/core/schema.js';
import { normaliseObservable } from '../../src/core/observable.js';
import type { ObservableType } from '../../src/core/stix.js';
import { must } from '../helpers/must.js';

function o(type: ObservableType, v: string) {
  const r = normaliseObservable(type, v);
  assert.ok(r.ok, v);
  return r.observable;
}

function lists() {
  const docs = [
    { name: 'Resolvers', type: 'cidr', matching_attributes: ['ip-dst'], list: ['8.8.8.8', '2001:4860:4860::/48'] },
    { name: 'Shorteners', type: 'hostname', matching_attributes: ['domain', 'url'], list: ['bit.ly'] },
    { name: 'Popular', type: 'string', list: ['bit.ly', 'example.com'] },
  ].map((d, i) => {
    const r = parseWarninglist(d, `fixture-${i}`);
    assert.ok(r.ok);
    return r.list;
  });
  return WarninglistMatcher.compile(docs).matcher;
}

test('warninglist hit: withheld and counted per list; a trusted source overrides; the allowlist always withholds', () => {
  const f = new PublishFilter({
    warninglists: lists(),
    allowlist: ['203.0.113.0/24', { type: 'substring', value: 'tracking' }],
    trustedSources: ['internal'],
  });
  const ip = o('ipv4-addr', '8.8.8.8');
  const d1 = f.check(ip, ['feed_a']);
  assert.equal(d1.publish, false);
  assert.deepEqual(d1.lists, ['Resolvers']);
  assert.deepEqual(
    d1.hits.map((h) => [h.source, h.type, h.entry, h.value]),
    [['warninglist', 'cidr', '8.8.8.8', '8.8.8.8']],
  );

  const d2 = f.check(ip, ['feed_a', 'internal']);
  assert.equal(d2.publish, true);
  assert.equal(d2.trusted, true);
  assert.deepEqual(d2.lists, []);
  assert.equal(d2.hits.length, 1, 'hits are still reported for flagging');

  const bitly = f.check(o('url', 'https://bit.ly/x'), ['feed_a']);
  assert.deepEqual(bitly.lists, ['Shorteners']);
  const bitlyDomain = f.check(o('domain-name', 'bit.ly'), ['feed_a']);
  assert.deepEqual(bitlyDomain.lists.sort(), ['Popular', 'Shorteners']);

  const allowed = f.check(o('ipv4-addr', '203.0.113.9'), ['internal']);
  assert.equal(allowed.publish, false, 'a trusted source does not override the allowlist');
  assert.deepEqual(allowed.lists, ['publish_allowlist']);
  const sub = f.check(o('url', 'https://cdn.example.net/TRACKING/pixel.gif'), []);
  assert.deepEqual([sub.publish, sub.hits[0]?.type], [false, 'substring']);

  const clean = f.check(o('ipv4-addr', '8.8.4.4'), []);
  assert.deepEqual([clean.publish, clean.hits.length, clean.lists.length], [true, 0, 0]);

  assert.deepEqual(Object.fromEntries(f.withheld), { Resolvers: 1, Shorteners: 2, Popular: 1, publish_allowlist: 2 });
  assert.deepEqual(Object.fromEntries(f.overridden), { Resolvers: 1 });
  const drained = f.drainCounts();
  assert.equal(drained.withheld.get('Shorteners'), 2);
  assert.equal(f.withheld.size, 0);
  f.check(ip, []);
  assert.deepEqual(Object.fromEntries(f.drainCounts().withheld), { Resolvers: 1 });
});

test('matching_attributes: the IP-only CIDR list does not flag a URL on that IP; IPv6 ranges contain addresses', () => {
  const f = new PublishFilter({ warninglists: lists() });
  assert.equal(f.check(o('url', 'http://8.8.8.8/'), []).publish, true);
  assert.equal(f.check(o('ipv6-addr', '2001:4860:4860::8888'), []).publish, false);
  assert.equal(f.check(o('ipv6-addr', '2001:4860:4861::1'), []).publish, true);
  f.setWarninglists(undefined);
  assert.equal(f.check(o('ipv4-addr', '8.8.8.8'), []).publish, true, 'lists can be swapped out on refresh');
});

test('publish allowlist: plain values typed automatically, explicit types, every observable kind', () => {
  const { matcher, issues } = compileAllowlist([
    '192.0.2.0/24',
    '2001:db8::/32',
    'Example.COM',
    'https://Evil.example.net/Path',
    'd41d8cd98f00b204e9800998ecf8427e',
    'abuse@corp.example',
    { type: 'regex', value: '^(noc|soc)@' },
    { type: 'regex', value: '/^HOSTMASTER@/i' },
    { type: 'string', value: 'https://exact.example/A' },
    { type: 'hostname', value: '.internal.example.' },
    { type: 'cidr', value: '10.0.0.0/8' },
  ]);
  assert.deepEqual(issues, []);
  const hit = (t: ObservableType, v: string) => matcher.match(o(t, v)).map((h) => h.type);
  assert.deepEqual(hit('ipv4-addr', '192.0.2.200'), ['cidr']);
  assert.deepEqual(hit('ipv4-addr', '192.0.3.1'), []);
  assert.deepEqual(hit('ipv4-addr', '192.0.2.0/25'), ['cidr']);
  assert.deepEqual(hit('ipv4-addr', '192.0.0.0/16'), [], 'a wider range is not inside the entry');
  assert.deepEqual(hit('ipv6-addr', '2001:DB8:abcd::1'), ['cidr']);
  assert.deepEqual(hit('domain-name', 'www.example.com'), ['hostname']);
  assert.deepEqual(hit('domain-name', 'notexample.com'), []);
  assert.deepEqual(hit('url', 'http://a.example.com/x'), ['hostname']);
  assert.deepEqual(hit('email-addr', 'x@mail.example.com'), ['hostname']);
  assert.deepEqual(hit('url', 'https://evil.example.net/Path'), ['string']);
  assert.deepEqual(hit('url', 'https://evil.example.net/path'), [], 'URL paths are case-sensitive');
  assert.deepEqual(hit('file', 'D41D8CD98F00B204E9800998ECF8427E'), ['string']);
  assert.deepEqual(hit('email-addr', 'Abuse@Corp.Example'), ['string']);
  assert.deepEqual(hit('email-addr', 'noc@x.example'), ['regex']);
  assert.deepEqual(hit('email-addr', 'hostmaster@x.example'), ['regex']);
  assert.deepEqual(hit('email-addr', 'xnoc@x.example'), []);
  assert.deepEqual(hit('url', 'https://EXACT.example/A'), ['string']);
  assert.deepEqual(hit('domain-name', 'a.b.internal.example'), ['hostname']);
  assert.deepEqual(hit('url', 'http://10.2.3.4:8080/'), ['cidr'], 'a URL on an allowlisted IP');
});

test('publish allowlist: bad entries reported with their configuration path', () => {
  const { issues } = compileAllowlist([
    'not a value!',
    { type: 'cidr', value: '10.0.0.0/40' },
    { type: 'regex', value: '(a)\\1' },
    { type: 'glob', value: 'x' },
    { type: 'hostname' },
    { value: 'x', type: 'string', extra: 1 },
    42,
  ]);
  assert.deepEqual(
    issues.map((i) => i.path),
    [
      'publish_allowlist[0]',
      'publish_allowlist[1].value',
      'publish_allowlist[2].value',
      'publish_allowlist[3].type',
      'publish_allowlist[4].value',
      'publish_allowlist[5].extra',
      'publish_allowlist[6]',
    ],
  );
  assert.match(must(issues[1], 'issues[1]').message, /invalid CIDR or IP address "10\.0\.0\.0\/40"/);
  assert.match(must(issues[2], 'issues[2]').message, /regex refused: backreferences are not supported/);
  assert.match(must(issues[3], 'issues[3]').message, /must be one of string, substring, hostname, cidr, regex/);
});

test('config schema fragment: defaults, every allowlist problem at its YAML path, trusted flag', () => {
  const root = s.object({
    ...filterConfigSchema,
    sources: s.record(s.object({ type: s.string(), ...trustedSourceSchema }), { default: {} }),
  });
  const ok = validate(root, {
    publish_allowlist: ['192.0.2.1', { type: 'substring', value: 'x' }],
    sources: { a: { type: 't', trusted: true } },
  });
  assert.ok(ok.ok);
  assert.deepEqual(ok.value.warninglists, { enabled: true, paths: [], urls: [], refresh_hours: 24, exclude: [] });
  assert.equal(must(ok.value.sources.a, 'ok.value.sources.a').trusted, true);
  const bad = validate(root, {
    warninglists: { paths: ['lists'], urls: ['ftp://x'], refresh_hour: 2 },
    publish_allowlist: ['10.0.0.0/40', { type: 'regex', value: '(?=a)' }],
    sources: { a: { type: 't', trusted: 'yes' } },
  });
  assert.ok(!bad.ok);
  assert.deepEqual(bad.issues.map((i) => i.path).sort(), [
    'publish_allowlist[0]',
    'publish_allowlist[1].value',
    'sources.a.trusted',
    'warninglists.refresh_hour',
    'warninglists.urls[0]',
  ]);
  assert.ok(validate(warninglistsSchema, undefined).ok);
  assert.ok(validate(publishAllowlistSchema, undefined).ok);
});
