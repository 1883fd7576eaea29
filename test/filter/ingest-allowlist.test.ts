import { test } from 'node:test';
import assert from 'node:assert/strict';
import { detectObservable } from '../../src/core/observable.js';
import { Allowlist } from '../../src/filter/ingest-allowlist.js';
import { must } from '../helpers/must.js';

const obs = (raw: string) => {
  const r = detectObservable(raw);
  assert.ok(r.ok, raw);
  return r.observable;
};

test('ingest allowlist: CIDRs cover the addresses and ranges inside them, never a wider range', () => {
  const a = new Allowlist(['10.0.0.0/8', '2001:db8::/32', '192.0.2.1']);
  assert.equal(a.size, 3);
  for (const v of [
    '10.1.2.3',
    '10.0.0.0/16',
    '10.0.0.0/8',
    '2001:db8::1',
    '2001:db8:1::/48',
    '192.0.2.1',
    'http://10.9.9.9/x',
    'http://[2001:db8::5]:8080/',
  ]) {
    assert.equal(a.covers(obs(v)), true, v);
  }
  for (const v of [
    '11.0.0.1',
    '10.0.0.0/7',
    '0.0.0.0/1',
    '192.0.2.2',
    '2001:db9::1',
    '2001:db8::/31',
    'http://11.0.0.1/x',
  ]) {
    assert.equal(a.covers(obs(v)), false, v);
  }
});

test('ingest allowlist: a domain covers its subdomains, URLs and e-mail addresses on them, at label boundaries only', () => {
  const a = new Allowlist(['example.com']);
  for (const v of [
    'example.com',
    'www.example.com',
    'a.b.example.com',
    'https://cdn.example.com/x.js',
    'abuse@example.com',
    'ops@mail.example.com',
  ]) {
    assert.equal(a.covers(obs(v)), true, v);
  }
  for (const v of ['badexample.com', 'example.com.evil.net', 'https://example.org/', 'abuse@example.org']) {
    assert.equal(a.covers(obs(v)), false, v);
  }
});

test('ingest allowlist: URLs, e-mail addresses and hashes match their canonical form exactly; refanged entries are canonicalised', () => {
  const a = new Allowlist(['hxxp://Evil[.]example/a', 'Abuse@Example.NET', 'D41D8CD98F00B204E9800998ECF8427E']);
  assert.equal(a.covers(obs('http://evil.example/a')), true);
  assert.equal(a.covers(obs('http://evil.example/b')), false);
  assert.equal(a.covers(obs('evil.example')), false, 'a URL entry does not cover its host');
  assert.equal(a.covers(obs('abuse@example.net')), true);
  assert.equal(a.covers(obs('other@example.net')), false);
  assert.equal(a.covers(obs('d41d8cd98f00b204e9800998ecf8427e')), true);
});

test('ingest allowlist: bad entries are reported with their position and skipped; an empty list covers nothing', () => {
  const a = new Allowlist(['not a value!', '10.0.0.0/8']);
  assert.equal(a.size, 1);
  assert.equal(a.invalid.length, 1);
  assert.match(must(a.invalid[0], 'a.invalid[0]'), /^allowlist\[0\]: /);
  assert.equal(a.covers(obs('10.1.1.1')), true);
  assert.equal(new Allowlist([]).covers(obs('10.1.1.1')), false);
});
