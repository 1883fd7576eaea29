/**
 * The vendor format rules of firewall lists (src/edl/formats.ts; docs/edl.md cites the vendors'
 * documentation): each case is a canonical observable and the line the vendor's list gets, or
 * the reason it gets none.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { domainLines, kindOf, lineOf, FORMAT_KINDS, type EdlFormat } from '../../src/edl/formats.js';
import { validate } from '../../src/core/schema.js';
import { edlSchema } from '../../src/edl/schema.js';
import { normaliseObservable } from '../../src/core/observable.js';
import type { ObservableType } from '../../src/core/stix.js';
import { must } from '../helpers/must.js';

function o(type: ObservableType, v: string) {
  const r = normaliseObservable(type, v);
  assert.ok(r.ok, `${v}: ${!r.ok && r.reason}`);
  return r.observable;
}
const line = (f: EdlFormat, type: ObservableType, v: string) => lineOf(f, o(type, v));

test('kinds: IPv4/IPv6 addresses and CIDRs are ip; hashes by length; e-mail and SHA-512 have no list', () => {
  assert.equal(kindOf(o('ipv4-addr', '198.51.100.7')), 'ip');
  assert.equal(kindOf(o('ipv4-addr', '198.51.100.0/24')), 'ip');
  assert.equal(kindOf(o('ipv6-addr', '2001:db8::1')), 'ip');
  assert.equal(kindOf(o('domain-name', 'evil.example')), 'domain');
  assert.equal(kindOf(o('url', 'http://evil.example/a')), 'url');
  assert.equal(kindOf(o('file', 'd41d8cd98f00b204e9800998ecf8427e')), 'md5');
  assert.equal(kindOf(o('file', 'da39a3ee5e6b4b0d3255bfef95601890afd80709')), 'sha1');
  assert.equal(kindOf(o('file', 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855')), 'sha256');
  assert.equal(
    kindOf(
      o(
        'file',
        'cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e',
      ),
    ),
    undefined,
  );
  assert.equal(kindOf(o('email-addr', 'a@evil.example')), undefined);
});

test('PAN-OS: IP lists take addresses and CIDRs (IPv4 and IPv6) as they are', () => {
  assert.deepEqual(line('paloalto', 'ipv4-addr', '198.51.100.7'), { kind: 'ip', line: '198.51.100.7' });
  assert.deepEqual(line('paloalto', 'ipv4-addr', '198.51.100.0/24'), { kind: 'ip', line: '198.51.100.0/24' });
  assert.deepEqual(line('paloalto', 'ipv6-addr', '2001:db8:123:1::/64'), { kind: 'ip', line: '2001:db8:123:1::/64' });
});

test('PAN-OS: URL lists carry no http:// or https:// prefix; other schemes, * and ^ (wildcards to PAN-OS) and entries over 255 characters are left out', () => {
  assert.deepEqual(line('paloalto', 'url', 'http://evil.example/a/b.php?id=1'), {
    kind: 'url',
    line: 'evil.example/a/b.php?id=1',
  });
  assert.deepEqual(line('paloalto', 'url', 'https://evil.example:8443/x'), {
    kind: 'url',
    line: 'evil.example:8443/x',
  });
  assert.deepEqual(line('paloalto', 'url', 'ftp://files.example/x.exe'), { kind: 'url', skip: 'scheme' });
  assert.deepEqual(line('paloalto', 'url', 'http://evil.example/a*b'), { kind: 'url', skip: 'wildcard_character' });
  assert.deepEqual(
    line('paloalto', 'url', 'http://evil.example/x?q=^a'),
    { kind: 'url', line: 'evil.example/x?q=%5Ea' },
    'a canonical URL carries ^ percent-encoded',
  );
  assert.deepEqual(lineOf('paloalto', { type: 'url', value: 'http://evil.example/^/a' }), {
    kind: 'url',
    skip: 'wildcard_character',
  });
  assert.deepEqual(line('paloalto', 'url', `http://evil.example/${'a'.repeat(250)}`), {
    kind: 'url',
    skip: 'too_long',
  });
  assert.deepEqual(
    line('paloalto', 'url', `http://evil.example/${'a'.repeat(242)}`),
    { kind: 'url', line: `evil.example/${'a'.repeat(242)}` },
    '255 characters exactly',
  );
});

test('PAN-OS: domain lists take the name; with subdomains also *.name (prepended wildcard), within 255 characters; no hash lists', () => {
  assert.deepEqual(line('paloalto', 'domain-name', 'evil.example'), { kind: 'domain', line: 'evil.example' });
  assert.deepEqual(domainLines('paloalto', 'evil.example', true), ['evil.example', '*.evil.example']);
  assert.deepEqual(domainLines('paloalto', 'evil.example', false), ['evil.example']);
  const long = `${'a'.repeat(60)}.${'b'.repeat(60)}.${'c'.repeat(60)}.${'d'.repeat(62)}.example`;
  assert.equal(long.length, 253, 'the longest DNS name');
  assert.deepEqual(domainLines('paloalto', long, true), [long, `*.${long}`], 'with *. still within 255 characters');
  assert.equal(line('paloalto', 'file', 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'), undefined);
  assert.deepEqual(FORMAT_KINDS.paloalto, ['ip', 'domain', 'url']);
});

test('Fortinet: URLs keep their scheme (FortiGuard category feeds take full URLs); a leading or trailing * (a wildcard) or a leading # (a comment) is left out', () => {
  assert.deepEqual(line('fortinet', 'url', 'http://evil.example:8080/url'), {
    kind: 'url',
    line: 'http://evil.example:8080/url',
  });
  assert.deepEqual(
    line('fortinet', 'url', 'http://[2001:db8::1]/x'),
    { kind: 'url', line: 'http://[2001:db8::1]/x' },
    'IPv6 hosts in brackets',
  );
  assert.deepEqual(line('fortinet', 'url', 'http://evil.example/a*'), { kind: 'url', skip: 'wildcard_character' });
  assert.deepEqual(
    line('fortinet', 'url', 'http://evil.example/a*b'),
    { kind: 'url', line: 'http://evil.example/a*b' },
    'only the ends are wildcards',
  );
  assert.deepEqual(domainLines('fortinet', 'evil.example', true), ['evil.example', '*.evil.example']);
});

test('Fortinet: IP feeds take addresses and subnets; malware hash feeds one hash per line, one algorithm per list', () => {
  assert.deepEqual(line('fortinet', 'ipv6-addr', '2001:db8::eade:27ff:fe04:9a00/120'), {
    kind: 'ip',
    line: '2001:db8::eade:27ff:fe04:9a00/120',
  });
  assert.deepEqual(line('fortinet', 'file', 'D41D8CD98F00B204E9800998ECF8427E'), {
    kind: 'md5',
    line: 'd41d8cd98f00b204e9800998ecf8427e',
  });
  assert.deepEqual(line('fortinet', 'file', 'da39a3ee5e6b4b0d3255bfef95601890afd80709'), {
    kind: 'sha1',
    line: 'da39a3ee5e6b4b0d3255bfef95601890afd80709',
  });
});

test('Check Point: flat network feeds of IP addresses (and CIDRs) or domains; no URL or hash feeds; no wildcard syntax', () => {
  assert.deepEqual(line('checkpoint', 'ipv4-addr', '198.51.100.0/24'), { kind: 'ip', line: '198.51.100.0/24' });
  assert.deepEqual(line('checkpoint', 'domain-name', 'evil.example'), { kind: 'domain', line: 'evil.example' });
  assert.equal(line('checkpoint', 'url', 'http://evil.example/a'), undefined);
  assert.equal(line('checkpoint', 'file', 'd41d8cd98f00b204e9800998ecf8427e'), undefined);
  assert.deepEqual(domainLines('checkpoint', 'evil.example', true), ['evil.example']);
});

test('plain: every kind, the canonical value as it is', () => {
  assert.deepEqual(line('plain', 'url', 'http://evil.example/a*'), { kind: 'url', line: 'http://evil.example/a*' });
  assert.deepEqual(FORMAT_KINDS.plain, ['ip', 'domain', 'url', 'md5', 'sha1', 'sha256']);
});

test('configuration: a kind the format does not take is an error naming the list, the kind and what the format takes', () => {
  const r = validate(
    edlSchema,
    { lists: { pan: { format: 'paloalto', kinds: ['ip', 'sha256'] }, cp: { format: 'checkpoint', kinds: ['url'] } } },
    'edl',
  );
  assert.equal(r.ok, false);
  assert.deepEqual(!r.ok && r.issues.map((i) => [i.path, i.message]), [
    ['edl.lists.pan.kinds[1]', 'format paloalto has no sha256 list; it takes ip, domain, url'],
    ['edl.lists.cp.kinds[0]', 'format checkpoint has no url list; it takes ip, domain'],
  ]);
  const red = validate(edlSchema, { lists: { x: { format: 'plain', max_tlp: 'red' } } }, 'edl');
  assert.equal(red.ok, false, 'no list carries TLP:RED');
  const ok = validate(edlSchema, { lists: { x: { format: 'fortinet' } } });
  assert.ok(ok.ok);
  assert.deepEqual(
    ok.ok && [
      must(ok.value.lists.x, 'ok.value.lists.x').max_tlp,
      must(ok.value.lists.x, 'ok.value.lists.x').kinds,
      must(ok.value.lists.x, 'ok.value.lists.x').warninglists,
    ],
    ['green', [], true],
  );
});
