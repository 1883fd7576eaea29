import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  gateObject,
  hashProblem,
  labelProblem,
  patternProblem,
  DEFAULT_VALUE_POLICY,
  VALIDITY_POLICY,
} from '../../src/core/value-gate.js';
import type { StixObject } from '../../src/core/stix.js';
import { must } from '../helpers/must.js';

const ind = (pattern: string, extra: Record<string, unknown> = {}): StixObject => ({
  type: 'indicator',
  id: 'indicator--11111111-1111-4111-8111-111111111111',
  pattern,
  pattern_type: 'stix',
  valid_from: '2026-01-01T00:00:00Z',
  ...extra,
});

function reasonOf(o: StixObject, policy = DEFAULT_VALUE_POLICY): string | undefined {
  const r = gateObject(o, policy, { source: 's' });
  return r.ok ? undefined : r.rejection.reason;
}

test('hashes: exact hex length per algorithm, SSDEEP and TLSH by syntax', () => {
  assert.equal(hashProblem('MD5', 'd41d8cd98f00b204e9800998ecf8427e'), undefined);
  assert.equal(hashProblem('SHA-256', 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'), undefined);
  assert.equal(hashProblem('sha384', 'a'.repeat(96)), undefined);
  assert.equal(hashProblem('SHA3-512', 'F'.repeat(128)), undefined);
  assert.equal(hashProblem('SSDEEP', '96:s4Ud1Lj96tHHlZDrwciQmA:sKd1Lj96tHHlZDrwciQmA'), undefined);
  assert.equal(hashProblem('TLSH', `T1${'a'.repeat(70)}`), undefined);
  for (const [alg, v] of [
    ['MD5', 'not a hash'],
    ['MD5', 'd41d8cd98f00b204e9800998ecf8427'],
    ['SHA-1', 'g'.repeat(40)],
    ['SHA-256', 'd41d8cd98f00b204e9800998ecf8427e'],
    ['SHA-512', 'a'.repeat(127)],
    ['SSDEEP', 'x:y'],
    ['TLSH', 'T1abc'],
    ['x-custom', ''],
    ['x-custom', 'a\u0000b'],
  ]) {
    assert.equal(hashProblem(must(alg, 'alg'), v)?.reason, 'invalid_hash', `${alg} ${v}`);
  }
  assert.equal(hashProblem('MD5', 5)?.reason, 'invalid_hash');
});

test('patterns: every compared value on an observable path goes through the normalisers', () => {
  assert.equal(patternProblem("[ipv4-addr:value = '1.2.3.4']"), undefined);
  assert.equal(patternProblem("[ipv4-addr:value = '999.1.1.1']")?.reason, 'invalid_ipv4');
  assert.equal(patternProblem("[domain-name:value = 'evil example.com']")?.reason, 'invalid_domain');
  assert.equal(patternProblem("[domain-name:value = 'evil\u0000\u202Eexample.com']")?.reason, 'control_chars');
  assert.equal(patternProblem("[url:value = 'http://0x7f.1/']")?.reason, 'invalid_url');
  assert.equal(patternProblem("[file:hashes.MD5 = 'not a hash']")?.reason, 'invalid_hash');
  assert.equal(patternProblem("[file:hashes.'SHA-256' = 'abc' OR file:name = 'x']")?.reason, 'invalid_hash');
  assert.equal(
    patternProblem("[email-message:body_multipart[*].body_raw_ref.hashes.MD5 = 'zz']")?.reason,
    'invalid_hash',
  );
  assert.equal(patternProblem("[network-traffic:dst_ref.value = '999.1.1.1']")?.reason, 'invalid_ipv4');
  assert.equal(patternProblem("[network-traffic:dst_ref.value = 'http://a.com/']")?.reason, 'invalid_endpoint');
  assert.equal(patternProblem("[ipv4-addr:value IN ('1.2.3.4', '1.2.3.400')]")?.reason, 'invalid_ipv4');
  assert.equal(patternProblem("[ipv4-addr:value ISSUBSET '0.0.0.0/0']")?.reason, 'cidr_too_wide');
  assert.equal(patternProblem("[ipv4-addr:value = '1.2.3.4'] AND [ipv6-addr:value = '::/0']")?.reason, 'cidr_too_wide');
  // regexes and other paths are not values
  assert.equal(patternProblem("[url:value MATCHES '^http://999']"), undefined);
  assert.equal(patternProblem("[file:name = 'not a hash']"), undefined);
  assert.equal(patternProblem('[ipv4-addr:value = ')?.reason, 'pattern_invalid');
});

test('CIDR width: /0 always rejected; the minimum prefix is policy', () => {
  assert.equal(reasonOf(ind("[ipv4-addr:value = '10.0.0.0/8']")), undefined);
  assert.equal(reasonOf(ind("[ipv4-addr:value = '10.0.0.0/7']")), 'cidr_too_wide');
  assert.equal(reasonOf(ind("[ipv4-addr:value = '10.0.0.0/7']"), VALIDITY_POLICY), undefined);
  assert.equal(reasonOf(ind("[ipv4-addr:value = '0.0.0.0/0']"), VALIDITY_POLICY), 'cidr_too_wide');
  assert.equal(reasonOf(ind("[ipv6-addr:value = '2000::/3']")), 'cidr_too_wide');
  assert.equal(reasonOf(ind("[ipv6-addr:value = '2000::/3']"), { minPrefixIpv4: 8, minPrefixIpv6: 3 }), undefined);
  assert.equal(
    reasonOf(ind("[ipv4-addr:value = '192.0.2.0/24']"), { minPrefixIpv4: 25, minPrefixIpv6: 16 }),
    'cidr_too_wide',
  );
});

test('SCOs: value and hashes checked; non-string values refused', () => {
  const sco = (type: string, extra: Record<string, unknown>): StixObject => ({
    type,
    id: `${type}--11111111-1111-4111-8111-111111111111`,
    ...extra,
  });
  assert.equal(reasonOf(sco('ipv4-addr', { value: '1.2.3.4' })), undefined);
  assert.equal(reasonOf(sco('ipv4-addr', { value: '999.1.1.1' })), 'invalid_ipv4');
  assert.equal(reasonOf(sco('ipv4-addr', { value: 5 })), 'invalid_value');
  assert.equal(reasonOf(sco('domain-name', { value: 'a b.com' })), 'invalid_domain');
  assert.equal(reasonOf(sco('url', { value: 'http://6/' })), 'invalid_url');
  assert.equal(reasonOf(sco('file', { hashes: { MD5: 'xyz' }, name: 'a' })), 'invalid_hash');
  assert.equal(reasonOf(sco('file', { hashes: 'abc' })), 'invalid_hash');
  assert.equal(reasonOf(sco('file', { name: 'no hashes' })), undefined);
  assert.equal(reasonOf(sco('x509-certificate', { hashes: { 'SHA-1': 'a'.repeat(40) } })), undefined);
});

test('F17 labels: a bad label is dropped and reported, the object kept; every rejection has a location', () => {
  const o = ind("[ipv4-addr:value = '1.2.3.4']", {
    labels: ['ok', '', 'x'.repeat(257), 'a\u0007b', 'evil\u202Egpj.exe', '=HYPERLINK("x")'],
  });
  const r = gateObject(o, DEFAULT_VALUE_POLICY, { source: 'feed', line: 3 });
  assert.ok(r.ok);
  assert.deepEqual(r.object.labels, ['ok', '=HYPERLINK("x")']); // formula text is neutralised at output, not here
  assert.deepEqual(o.labels?.length, 6, 'the input object is not modified');
  assert.deepEqual(
    r.rejections.map((x) => x.reason),
    ['invalid_label', 'invalid_label', 'invalid_label', 'invalid_label'],
  );
  for (const x of r.rejections) assert.deepEqual(x.location, { source: 'feed', line: 3, objectId: o.id });
  const all = gateObject(ind("[ipv4-addr:value = '1.2.3.4']", { labels: ['\u0000'] }));
  assert.ok(all.ok && all.object.labels === undefined);
  assert.equal(reasonOf(ind("[ipv4-addr:value = '1.2.3.4']", { labels: 'x' })), 'invalid_label');
  assert.equal(labelProblem(5)?.reason, 'invalid_label');
  // the message escapes what it quotes (no raw control characters reach a log line)
  assert.match(must(r.rejections[2], 'r.rejections[2]').message, /a\\u0007b/);
});
