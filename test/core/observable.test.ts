import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  refang,
  normaliseObservable,
  detectObservable,
  detectHashAlgorithm,
  parseIpv4,
  parseIpv6,
  formatIpv6,
  normaliseHash,
  quoteValue,
  type NormaliseResult,
} from '../../src/core/observable.js';
import type { Observable, ObservableType } from '../../src/core/stix.js';

function value(r: NormaliseResult): Observable {
  if (!r.ok) assert.fail(`expected ok, got ${r.reason}: ${r.message}`);
  return r.observable;
}
function reason(r: NormaliseResult): string {
  assert.equal(r.ok, false, `expected a rejection, got ${JSON.stringify(r)}`);
  return r.ok ? '' : r.reason;
}

test('refang', () => {
  const cases: Array<[string, string]> = [
    ['hxxp://evil[.]com/a', 'http://evil.com/a'],
    ['HXXPS://evil(.)com', 'HTTPS://evil.com'.replace('HTTPS', 'https')],
    ['hXXps[://]evil{.}com', 'https://evil.com'],
    ['fxp://files[dot]example(dot)org', 'ftp://files.example.org'],
    ['1.2.3[.]4', '1.2.3.4'],
    ['user[@]example[.]com', 'user@example.com'],
    ['user(at)example[DOT]com', 'user@example.com'],
    ['user[at]example{dot}com', 'user@example.com'],
    ['http[:]//a.com[/]x', 'http://a.com/x'],
    ['  "1.2.3.4"  ', '1.2.3.4'],
    ["'evil.com'", 'evil.com'],
    ['`evil.com`', 'evil.com'],
    ['"unbalanced.com', '"unbalanced.com'],
    ["http://a.com/x'", "http://a.com/x'"],
    ['hxxpfoo', 'hxxpfoo'],
    ['', ''],
  ];
  for (const [input, want] of cases) assert.equal(refang(input), want, input);
});

test('parseIpv4 accepts only strict dotted quads', () => {
  assert.equal(parseIpv4('1.2.3.4'), 0x01020304);
  assert.equal(parseIpv4('255.255.255.255'), 0xffffffff);
  assert.equal(parseIpv4('0.0.0.0'), 0);
  for (const bad of [
    '0x7f.1',
    '2130706433',
    '017.0.0.1',
    '1.2.3',
    '1.2.3.4.5',
    '256.1.1.1',
    '1.2.3.',
    '.1.2.3',
    '1..2.3',
    '1.2.3.4 ',
    ' 1.2.3.4',
    '1.2.3.04',
    '1.2.3.a',
    '',
    '1.2.3.1000',
  ]) {
    assert.equal(parseIpv4(bad), undefined, bad);
  }
});

test('parseIpv6 / formatIpv6 (RFC 4291 input, RFC 5952 output)', () => {
  const cases: Array<[string, string]> = [
    ['2001:DB8:0:0:0:0:0:1', '2001:db8::1'],
    ['2001:0db8:0000:0000:0000:ff00:0042:8329', '2001:db8::ff00:42:8329'],
    ['::', '::'],
    ['::1', '::1'],
    ['1::', '1::'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // first of two equal runs
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // a single zero word is not compressed
    ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'], // the longest run wins
    ['::ffff:1.2.3.4', '::ffff:1.2.3.4'],
    ['::FFFF:0102:0304', '::ffff:1.2.3.4'],
    ['::1.2.3.4', '::102:304'],
    ['fe80::1:2', 'fe80::1:2'],
    ['1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8'],
    ['1:2:3:4:5:6:1.2.3.4', '1:2:3:4:5:6:102:304'],
  ];
  for (const [input, want] of cases) {
    const w = parseIpv6(input);
    assert.ok(w, input);
    assert.equal(formatIpv6(w), want, input);
  }
  for (const bad of [
    '1:2:3:4:5:6:7:8:9',
    '1::2::3',
    ':1:2:3:4:5:6:7',
    '1:2:3:4:5:6:7:',
    '12345::',
    'g::1',
    'fe80::1%eth0',
    '[::1]',
    '1:2:3:4:5:6:7:1.2.3.4',
    '::1.2.3',
    '1:2:3:4:5:6:7:8::',
    '',
    ':',
    ':::',
  ]) {
    assert.equal(parseIpv6(bad), undefined, bad);
  }
});

test('IPv4 and CIDR normalisation', () => {
  assert.deepEqual(value(normaliseObservable('ipv4-addr', ' 1.2.3[.]4 ')), { type: 'ipv4-addr', value: '1.2.3.4' });
  assert.deepEqual(value(normaliseObservable('ipv4-addr', '1.2.3.4/24')), {
    type: 'ipv4-addr',
    value: '1.2.3.0/24',
    cidr: true,
  });
  assert.deepEqual(value(normaliseObservable('ipv4-addr', '1.2.3.4/32')), { type: 'ipv4-addr', value: '1.2.3.4' });
  // a /0 covers every address: never an indicator (issue 18)
  assert.equal(reason(normaliseObservable('ipv4-addr', '255.255.255.255/0')), 'cidr_too_wide');
  assert.equal(reason(normaliseObservable('ipv4-addr', '0.0.0.0/0')), 'cidr_too_wide');
  assert.equal(reason(detectObservable('0.0.0.0/0')), 'cidr_too_wide');
  assert.deepEqual(value(normaliseObservable('ipv4-addr', '255.255.255.255/1')), {
    type: 'ipv4-addr',
    value: '128.0.0.0/1',
    cidr: true,
  });
  assert.deepEqual(value(normaliseObservable('ipv4-addr', '10.1.2.3/9')), {
    type: 'ipv4-addr',
    value: '10.0.0.0/9',
    cidr: true,
  });
  assert.equal(reason(normaliseObservable('ipv4-addr', '1.2.3.4/33')), 'invalid_cidr');
  assert.equal(reason(normaliseObservable('ipv4-addr', '1.2.3.4/024')), 'invalid_cidr');
  assert.equal(reason(normaliseObservable('ipv4-addr', '1.2.3.4/')), 'invalid_cidr');
  assert.equal(reason(normaliseObservable('ipv4-addr', '1.2.3/24')), 'invalid_cidr');
  assert.equal(reason(normaliseObservable('ipv4-addr', '017.0.0.1')), 'invalid_ipv4');
  assert.equal(reason(normaliseObservable('ipv4-addr', '::1')), 'invalid_ipv4');
});

test('IPv6 and CIDR normalisation', () => {
  assert.deepEqual(value(normaliseObservable('ipv6-addr', '2001:DB8::0:1')), {
    type: 'ipv6-addr',
    value: '2001:db8::1',
  });
  assert.deepEqual(value(normaliseObservable('ipv6-addr', '2001:db8:abcd:1234::1/48')), {
    type: 'ipv6-addr',
    value: '2001:db8:abcd::/48',
    cidr: true,
  });
  assert.deepEqual(value(normaliseObservable('ipv6-addr', '2001:db8::ffff/127')), {
    type: 'ipv6-addr',
    value: '2001:db8::fffe/127',
    cidr: true,
  });
  assert.deepEqual(value(normaliseObservable('ipv6-addr', '2001:db8::1/128')), {
    type: 'ipv6-addr',
    value: '2001:db8::1',
  });
  assert.deepEqual(value(normaliseObservable('ipv6-addr', 'ffff::/1')), {
    type: 'ipv6-addr',
    value: '8000::/1',
    cidr: true,
  });
  assert.equal(reason(normaliseObservable('ipv6-addr', '2001:db8::/129')), 'invalid_cidr');
  assert.equal(reason(normaliseObservable('ipv6-addr', '::/0')), 'cidr_too_wide');
  assert.equal(reason(detectObservable('::/0')), 'cidr_too_wide');
  assert.equal(reason(normaliseObservable('ipv6-addr', '2001:db8:::1')), 'invalid_ipv6');
  assert.equal(reason(normaliseObservable('ipv6-addr', '1.2.3.4')), 'invalid_ipv6');
});

test('issue 18: IPv4-mapped IPv6 (::ffff:0:0/96) is canonicalised to IPv4, addresses and ranges inside it', () => {
  assert.deepEqual(value(detectObservable('::ffff:1.2.3.6')), { type: 'ipv4-addr', value: '1.2.3.6' });
  assert.deepEqual(value(normaliseObservable('ipv6-addr', '::FFFF:0102:0306')), {
    type: 'ipv4-addr',
    value: '1.2.3.6',
  });
  assert.deepEqual(value(normaliseObservable('ipv6-addr', '0:0:0:0:0:ffff:1.2.3.6/128')), {
    type: 'ipv4-addr',
    value: '1.2.3.6',
  });
  assert.deepEqual(value(detectObservable('::ffff:203.0.113.9/120')), {
    type: 'ipv4-addr',
    value: '203.0.113.0/24',
    cidr: true,
  });
  assert.equal(reason(detectObservable('::ffff:0.0.0.0/96')), 'cidr_too_wide');
  // wider than the mapped block, or not mapped at all: IPv6 as written
  assert.deepEqual(value(detectObservable('::ffff:0:0/95')), { type: 'ipv6-addr', value: '::fffe:0:0/95', cidr: true });
  assert.deepEqual(value(detectObservable('::1.2.3.6')), { type: 'ipv6-addr', value: '::102:306' });
  assert.deepEqual(value(detectObservable('64:ff9b::1.2.3.6')), { type: 'ipv6-addr', value: '64:ff9b::102:306' });
});

test('F19: domain normalisation: NFC, IDNA/punycode, full-width forms, zero-width removed; RTL override, bidi isolates, controls and lone surrogates rejected', () => {
  const ok: Array<[string, string]> = [
    ['Example.COM', 'example.com'],
    ['example.com.', 'example.com'],
    ['WWW.Example[.]Com', 'www.example.com'],
    ['bücher.de', 'xn--bcher-kva.de'],
    ['bu\u0308cher.de', 'xn--bcher-kva.de'], // NFD → NFC before IDNA
    ['ｅｘａｍｐｌｅ．ｃｏｍ', 'example.com'], // full-width forms (UTS #46 mapping)
    ['exa\u200Bmple.com', 'example.com'], // zero-width space removed
    ['\uFEFFexample.com', 'example.com'],
    ['_dmarc.example.com', '_dmarc.example.com'],
    ['a-b.c-d.xn--p1ai', 'a-b.c-d.xn--p1ai'],
    ['пример.рф', 'xn--e1afmkfd.xn--p1ai'],
    [`${'a'.repeat(63)}.com`, `${'a'.repeat(63)}.com`],
  ];
  for (const [input, want] of ok)
    assert.deepEqual(value(normaliseObservable('domain-name', input)), { type: 'domain-name', value: want }, input);
  const bad: Array<[string, string]> = [
    ['localhost', 'invalid_domain'],
    ['example..com', 'invalid_domain'],
    ['.example.com', 'invalid_domain'],
    ['example.com..', 'invalid_domain'],
    ['a.1', 'invalid_domain'],
    ['1.2.3.4', 'invalid_domain'],
    ['example.c_m', 'invalid_domain'],
    ['exa mple.com', 'invalid_domain'],
    ['exa%41mple.com', 'invalid_domain'],
    [`${'a'.repeat(64)}.com`, 'invalid_domain'],
    [`${'a.'.repeat(126)}com`, 'too_long'],
    ['ex\u202Eample.com', 'control_chars'],
    ['ex\u2066ample.com', 'control_chars'],
    ['exa\tmple.com', 'control_chars'],
    ['exa\u0085mple.com', 'control_chars'],
    ['exa\uD800mple.com', 'control_chars'],
    ['exa\uDC00mple.com', 'control_chars'],
    ['', 'empty'],
    ['   ', 'empty'],
    ['""', 'empty'],
    ['\u200B', 'empty'],
  ];
  for (const [input, want] of bad)
    assert.equal(reason(normaliseObservable('domain-name', input)), want, JSON.stringify(input));
  // a valid surrogate pair is not a control character (UTS #46 maps the emoji to punycode)
  assert.deepEqual(value(normaliseObservable('domain-name', 'a\u{1F600}.com')), {
    type: 'domain-name',
    value: 'xn--a-jv3s.com',
  });
  const { length } = value(normaliseObservable('domain-name', `${'a.'.repeat(125)}com`)).value;
  assert.equal(length, 253);
});

test('URL normalisation', () => {
  const ok: Array<[string, string]> = [
    ['hxxp://EXAMPLE.com.', 'http://example.com/'],
    ['HTTP://Example.COM:80', 'http://example.com/'],
    ['https://example.com:443/a', 'https://example.com/a'],
    ['https://example.com:8443/a', 'https://example.com:8443/a'],
    ['http://example.com:080/', 'http://example.com/'],
    ['http://example.com:/', 'http://example.com/'],
    ['ftp://example.com:21/f', 'ftp://example.com/f'],
    ['http://example.com/A/b?Q=1#frag', 'http://example.com/A/b?Q=1'],
    ['http://example.com/%7e%41%2f%2F%3a', 'http://example.com/~A%2F%2F%3A'],
    ['http://example.com/a b"c<d>^`{|}\\', 'http://example.com/a%20b%22c%3Cd%3E%5E%60%7B%7C%7D%5C'],
    ['http://example.com/100%', 'http://example.com/100%25'],
    ['http://example.com/%zz', 'http://example.com/%25zz'],
    ['http://example.com/ü', 'http://example.com/%C3%BC'],
    ['http://example.com/😀', 'http://example.com/%F0%9F%98%80'],
    ['http://example.com/a\'b?q="x"', "http://example.com/a'b?q=%22x%22"],
    ['http://example.com/x/../y/./z', 'http://example.com/x/../y/./z'], // dot segments kept
    ['http://example.com?x=1', 'http://example.com/?x=1'],
    ['http://example.com/?a=1&b=2+3/?', 'http://example.com/?a=1&b=2+3/?'],
    ['http://User:Pw@Example.com/', 'http://User:Pw@example.com/'],
    ['http://u%3a@example.com/', 'http://u%3A@example.com/'],
    ['http://[2001:DB8::1]:8080/x', 'http://[2001:db8::1]:8080/x'],
    ['http://[::ffff:1.2.3.4]/', 'http://[::ffff:1.2.3.4]/'],
    ['http://1.2.3.4:80/x', 'http://1.2.3.4/x'],
    ['http://bücher.de/ü path', 'http://xn--bcher-kva.de/%C3%BC%20path'],
    ['http://localhost/', 'http://localhost/'],
    ['example.com/x', 'http://example.com/x'],
    ['//example.com/x', 'http://example.com/x'],
    ['example.com:8080/x', 'http://example.com:8080/x'],
    ['HTTPS://a.com', 'https://a.com/'],
    ['tcp://1.2.3.4:4444', 'tcp://1.2.3.4:4444/'],
    ['file:///etc/passwd', 'file:///etc/passwd'],
  ];
  for (const [input, want] of ok)
    assert.deepEqual(value(normaliseObservable('url', input)), { type: 'url', value: want }, input);
  const bad = [
    'javascript:alert(1)',
    'mailto:a@b.com',
    'http:/example.com',
    'http://',
    'http://:80/',
    'http://a.com:99999/',
    'http://a.com:8x/',
    'http://[::1/',
    'http://[::g]/',
    'http://[::1]x/',
    'http://evil.com\\@good.com/',
    'http://ex%41mple.com/',
    'http://a..com/',
    'http://a com/',
    // a host ending in a number is an IPv4 address to a browser (WHATWG): it must be a strict dotted quad (issue 18)
    'http://999.1.1.1/',
    'http://6/',
    'http://0x7f.1/',
    'http://2130706433/',
    'http://017700000001/',
    'http://1.2.3/',
    'http://a.b.0x10/',
    'http://a.0/',
  ];
  for (const b of bad) assert.equal(reason(normaliseObservable('url', b)), 'invalid_url', b);
  assert.equal(reason(normaliseObservable('url', `http://a.com/${'a'.repeat(2100)}`)), 'too_long');
  assert.equal(reason(normaliseObservable('url', `http://a.com/${'ü'.repeat(400)}`)), 'too_long'); // grows past the cap once encoded
  assert.equal(reason(normaliseObservable('url', 'http://a.com/\u0000')), 'control_chars');
});

test('e-mail normalisation', () => {
  assert.deepEqual(value(normaliseObservable('email-addr', 'John.Doe@Example[.]COM')), {
    type: 'email-addr',
    value: 'john.doe@example.com',
  });
  assert.deepEqual(value(normaliseObservable('email-addr', 'a+tag@bücher.de')), {
    type: 'email-addr',
    value: 'a+tag@xn--bcher-kva.de',
  });
  assert.deepEqual(value(normaliseObservable('email-addr', 'x(at)y.org')), { type: 'email-addr', value: 'x@y.org' });
  for (const b of [
    '@example.com',
    'a@',
    'a@localhost',
    'a b@example.com',
    'a@b@',
    '"a"@example.com',
    `${'a'.repeat(65)}@example.com`,
    'a@1.2.3.4',
  ]) {
    assert.equal(reason(normaliseObservable('email-addr', b)), 'invalid_email', b);
  }
  assert.equal(reason(normaliseObservable('email-addr', `a@${`${'b'.repeat(60)}.`.repeat(6)}com`)), 'too_long');
});

test('hashes', () => {
  assert.equal(detectHashAlgorithm('d41d8cd98f00b204e9800998ecf8427e'), 'MD5');
  assert.equal(detectHashAlgorithm('da39a3ee5e6b4b0d3255bfef95601890afd80709'), 'SHA-1');
  assert.equal(detectHashAlgorithm('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'), 'SHA-256');
  assert.equal(detectHashAlgorithm('A'.repeat(128)), 'SHA-512');
  assert.equal(detectHashAlgorithm('g'.repeat(32)), undefined);
  assert.equal(detectHashAlgorithm('a'.repeat(33)), undefined);
  assert.deepEqual(value(normaliseObservable('file', ' D41D8CD98F00B204E9800998ECF8427E ')), {
    type: 'file',
    value: 'd41d8cd98f00b204e9800998ecf8427e',
    hash: 'MD5',
  });
  const fp = 'DA:39:A3:EE:5E:6B:4B:0D:32:55:BF:EF:95:60:18:90:AF:D8:07:09';
  assert.deepEqual(value(normaliseObservable('x509-certificate', fp)), {
    type: 'x509-certificate',
    value: 'da39a3ee5e6b4b0d3255bfef95601890afd80709',
    hash: 'SHA-1',
  });
  assert.equal(reason(normaliseObservable('file', fp)), 'invalid_hash');
  assert.equal(reason(normaliseObservable('file', 'xyz')), 'invalid_hash');
  assert.equal(reason(normaliseObservable('file', '')), 'empty');
  assert.equal(reason(normaliseHash('file', 'd41d8cd98f00b204e9800998ecf8427e', 'SHA-1')), 'invalid_hash');
  assert.equal(
    value(normaliseHash('file', 'D41D8CD98F00B204E9800998ECF8427E', 'MD5')).value,
    'd41d8cd98f00b204e9800998ecf8427e',
  );
});

test('detectObservable types values', () => {
  const cases: Array<[string, Observable]> = [
    ['1.2.3[.]4', { type: 'ipv4-addr', value: '1.2.3.4' }],
    ['1.2.3.4/24', { type: 'ipv4-addr', value: '1.2.3.0/24', cidr: true }],
    ['2001:DB8::1', { type: 'ipv6-addr', value: '2001:db8::1' }],
    ['2001:db8::/32', { type: 'ipv6-addr', value: '2001:db8::/32', cidr: true }],
    ['::ffff:1.2.3.4', { type: 'ipv4-addr', value: '1.2.3.4' }], // IPv4-mapped: the IPv4 address
    ['Example.COM', { type: 'domain-name', value: 'example.com' }],
    ['123.example.com', { type: 'domain-name', value: '123.example.com' }],
    ['hxxp://EXAMPLE.com.', { type: 'url', value: 'http://example.com/' }],
    ['example.com/path', { type: 'url', value: 'http://example.com/path' }],
    ['1.2.3.4/admin', { type: 'url', value: 'http://1.2.3.4/admin' }],
    ['http://user@example.com/', { type: 'url', value: 'http://user@example.com/' }],
    ['Foo@Example[.]COM', { type: 'email-addr', value: 'foo@example.com' }],
    ['D41D8CD98F00B204E9800998ECF8427E', { type: 'file', value: 'd41d8cd98f00b204e9800998ecf8427e', hash: 'MD5' }],
    [
      'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
      { type: 'file', value: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855', hash: 'SHA-256' },
    ],
  ];
  for (const [input, want] of cases) assert.deepEqual(value(detectObservable(input)), want, input);
  const bad: Array<[string, string]> = [
    ['017.0.0.1', 'invalid_ipv4'],
    ['1.2.3.4.5', 'invalid_ipv4'],
    ['1.2.3.4/40', 'invalid_cidr'],
    ['2130706433', 'invalid_ipv4'],
    ['1:2:3', 'invalid_ipv6'],
    ['1.2.3.4:80', 'unknown_type'],
    ['javascript:alert(1)', 'unknown_type'],
    ['nodot', 'invalid_domain'],
    ['a@b', 'invalid_email'],
    ['', 'empty'],
    ['x'.repeat(3000), 'too_long'],
    ['x'.repeat(1_000_000), 'too_long'],
    ['ex\u202Eample.com', 'control_chars'],
  ];
  for (const [input, want] of bad) assert.equal(reason(detectObservable(input)), want, input.slice(0, 40));
});

test('normaliseObservable rejects an unknown type', () => {
  assert.equal(reason(normaliseObservable('mutex' as ObservableType, 'x')), 'unknown_type');
});

test('rejection messages name the problem and quote a truncated, escaped value', () => {
  const r = detectObservable('017.0.0.1');
  assert.deepEqual(r, { ok: false, reason: 'invalid_ipv4', message: 'invalid IPv4 address: "017.0.0.1"' });
  const long = normaliseObservable('url', `http://a.com/${'a'.repeat(3000)}`);
  assert.equal(long.ok, false);
  if (!long.ok) {
    assert.equal(
      long.message,
      `value longer than 2048 characters: "http://a.com/${'a'.repeat(67)}…" (3013 characters)`,
    );
  }
  assert.equal(quoteValue('a"b\\c\u202E\n'), '"a\\"b\\\\c\\u202e\\u000a"');
  const r2 = normaliseObservable('domain-name', 'ex\u202Eample.com');
  assert.equal(
    r2.ok ? '' : r2.message,
    'value contains control, bidi or invalid UTF-16 characters: "ex\\u202eample.com"',
  );
});
