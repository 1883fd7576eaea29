import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalize } from '../../src/core/canonical-json.js';
import {
  uuidv5,
  scoId,
  observableScoId,
  deterministicId,
  indicatorIdForPattern,
  STIXGATE_NAMESPACE,
} from '../../src/core/ids.js';
import { detectObservable, normaliseObservable } from '../../src/core/observable.js';
import { STIX_SCO_NAMESPACE, type Observable } from '../../src/core/stix.js';

const NAMESPACE_DNS = '6ba7b810-9dad-11d1-80b4-00c04fd430c8';
const NAMESPACE_URL = '6ba7b811-9dad-11d1-80b4-00c04fd430c8';

test('uuidv5 matches Python uuid.uuid5 (RFC 4122 name-based SHA-1)', () => {
  // Values from CPython 3.11 `uuid.uuid5(uuid.NAMESPACE_DNS, 'python.org')` etc.
  assert.equal(uuidv5(NAMESPACE_DNS, 'python.org'), '886313e1-3b8a-5372-9b90-0c9aee199e5d');
  assert.equal(uuidv5(NAMESPACE_DNS, 'www.example.com'), '2ed6657d-e927-568b-95e1-2665a8aea6a2');
  assert.equal(uuidv5(NAMESPACE_URL, 'http://www.ietf.org/rfc/rfc4122.txt'), 'd0690b3c-b29d-52e7-81b0-d573b503f2d4');
  // upper-case namespace text is the same namespace
  assert.equal(uuidv5(NAMESPACE_DNS.toUpperCase(), 'python.org'), '886313e1-3b8a-5372-9b90-0c9aee199e5d');
});

test('uuidv5 sets version 5 and the RFC 4122 variant, and rejects a bad namespace', () => {
  for (const name of ['', 'a', 'ü', '🙂'.repeat(50)]) {
    const u = uuidv5(STIX_SCO_NAMESPACE, name);
    assert.match(u, /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  }
  assert.throws(() => uuidv5('not-a-uuid', 'x'), TypeError);
});

test('STIXGATE_NAMESPACE is uuidv5(URL namespace, https://stixgate.dev/ns/stix)', () => {
  assert.equal(STIXGATE_NAMESPACE, uuidv5(NAMESPACE_URL, 'https://stixgate.dev/ns/stix'));
  assert.equal(STIXGATE_NAMESPACE, '4af2a4e0-2449-5634-9224-3f6b875e77d5');
});

test('canonicalize implements RFC 8785 (the §3.2.2 example and §3.2.3 key order)', () => {
  const input = JSON.parse(
    '{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001], ' +
      '"string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/", "literals": [null, true, false]}',
  );
  assert.equal(
    canonicalize(input),
    '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}',
  );
  const keys = { '\u20ac': 1, '\r': 2, '\ufb33': 3, '1': 4, '\ud83d\ude00': 5, '\u0080': 6, '\u00f6': 7 };
  assert.equal(canonicalize(keys), '{"\\r":2,"1":4,"\u0080":6,"ö":7,"€":1,"😀":5,"דּ":3}');
  assert.equal(canonicalize({ b: [1, { d: 1, c: undefined, a: -0 }], a: 'x' }), '{"a":"x","b":[1,{"a":0,"d":1}]}');
  assert.equal(canonicalize([1e21, 1e-7, 0.000001, 100, -1.5]), '[1e+21,1e-7,0.000001,100,-1.5]');
  assert.throws(() => canonicalize({ a: Number.NaN }), TypeError);
  assert.throws(() => canonicalize({ a: 1n }), TypeError);
});

// Expected ids computed with the OASIS python-stix2 library, version 3.0.2
// (e.g. `stix2.IPv4Address(value="1.2.3.4").id`, `stix2.File(hashes={"SHA-256": "…"}).id`).
const PYTHON_STIX2_IDS: Array<[Observable, string]> = [
  [{ type: 'ipv4-addr', value: '1.2.3.4' }, 'ipv4-addr--0198f97b-e65d-5025-87e5-58bc39d4bdb4'],
  [{ type: 'ipv4-addr', value: '1.2.3.0/24', cidr: true }, 'ipv4-addr--600d22d0-cdbb-5906-9ac0-5c244b36744b'],
  [{ type: 'ipv6-addr', value: '2001:db8::1' }, 'ipv6-addr--6469e3a9-b053-5e34-a025-9396ae051d26'],
  [{ type: 'domain-name', value: 'example.com' }, 'domain-name--bedb4899-d24b-5401-bc86-8f6b4cc18ec7'],
  [{ type: 'domain-name', value: 'xn--bcher-kva.de' }, 'domain-name--320d8e58-ae43-5bd4-b670-b8896595d76a'],
  [{ type: 'url', value: 'http://example.com/a\'b?q="x"' }, 'url--37e686b0-26a8-57f7-9d86-2778d0ce4470'],
  [{ type: 'url', value: 'http://xn--bcher-kva.de/%C3%BC%20path' }, 'url--4f1d4ee6-3b90-5e24-9b3e-8cd5e86806f0'],
  [{ type: 'email-addr', value: 'foo@example.com' }, 'email-addr--522ffc34-3871-5992-b017-c695d0ea306e'],
  [
    { type: 'file', value: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855', hash: 'SHA-256' },
    'file--22f8ff52-8f62-5f03-a53a-6f50f54fd74c',
  ],
  [
    { type: 'file', value: 'd41d8cd98f00b204e9800998ecf8427e', hash: 'MD5' },
    'file--02fff920-f614-527c-81d1-6353633a6d21',
  ],
  [
    { type: 'file', value: 'da39a3ee5e6b4b0d3255bfef95601890afd80709', hash: 'SHA-1' },
    'file--fa6e66a5-f019-51f9-8ab5-812023e58c6e',
  ],
  [
    { type: 'x509-certificate', value: 'da39a3ee5e6b4b0d3255bfef95601890afd80709', hash: 'SHA-1' },
    'x509-certificate--fa6e66a5-f019-51f9-8ab5-812023e58c6e',
  ],
];

test('observableScoId equals python-stix2 3.0.2 for every observable type', () => {
  for (const [o, id] of PYTHON_STIX2_IDS) assert.equal(observableScoId(o), id, `${o.type} ${o.value}`);
  // python-stix2 hashes the raw Unicode form; stixgate stores the punycode form, so they differ by design
  assert.equal(scoId('domain-name', { value: 'bücher.de' }), 'domain-name--be1e2d82-8103-5c95-84ec-7b34162b49c7');
  assert.throws(() => observableScoId({ type: 'file', value: 'd41d8cd98f00b204e9800998ecf8427e' }), TypeError);
});

test('F20: spelling variants of one value share one SCO id', () => {
  const groups: string[][] = [
    ['hxxp://EXAMPLE.com.', 'http://example.com/', 'HTTP://Example.COM:80', ' "http://example[.]com" '],
    ['1.2.3[.]4', '1.2.3.4', '1[.]2[.]3[.]4', "'1.2.3.4'"],
    ['Example.COM', 'example.com.', 'example[.]com', 'EXAMPLE(dot)com', 'exam\u200Bple.com'],
    ['bücher.de', 'BÜCHER.de', 'bu\u0308cher.de', 'xn--bcher-kva.de'],
    ['2001:DB8:0:0:0:0:0:1', '2001:db8::1', '2001:0db8::0001'],
  ];
  for (const g of groups) {
    const ids = new Set(
      g.map((v) => {
        const r = detectObservable(v);
        assert.ok(r.ok, `${v}: ${r.ok ? '' : r.message}`);
        return observableScoId(r.observable);
      }),
    );
    assert.equal(ids.size, 1, `variants ${g.join(' | ')}`);
  }
  const r = normaliseObservable('domain-name', 'bücher.de');
  assert.ok(r.ok);
  assert.equal(observableScoId(r.observable), 'domain-name--320d8e58-ae43-5bd4-b670-b8896595d76a');
});

test('deterministicId and indicatorIdForPattern', () => {
  assert.equal(deterministicId('indicator', 'x'), `indicator--${uuidv5(STIXGATE_NAMESPACE, 'x')}`);
  const a = indicatorIdForPattern("[ipv4-addr:value = '1.2.3.4']");
  assert.equal(a, deterministicId('indicator', "[ipv4-addr:value = '1.2.3.4']"));
  assert.equal(indicatorIdForPattern("  [ ipv4-addr:value  ==  '1.2.3.4' ]\n"), a);
  assert.notEqual(indicatorIdForPattern("[ipv4-addr:value = '1.2.3.5']"), a);
  assert.throws(() => indicatorIdForPattern('[ipv4-addr:value = '), { code: 'STIXGATE_ERR_PATTERN_INVALID' });
});
