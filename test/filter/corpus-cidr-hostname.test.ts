/**
 * Corpus warninglists of types cidr and hostname: values derived from each list's own entries hit
 * it; neighbours just outside a range, label-boundary near misses and types outside
 * `matching_attributes` do not. Expected results come from the BigInt / label-split references in
 * corpus-helpers.ts, never from the matcher.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normaliseObservable } from '../../src/core/observable.js';
import type { Observable } from '../../src/core/stix.js';
import {
  SKIP,
  raw,
  corpusMatcher,
  hitIds,
  sample,
  toRange,
  fromBig,
  covered,
  hostListed,
  hostEntrySet,
  type Range,
} from './corpus-helpers.js';

const CIDR_LISTS = [
  'rfc1918',
  'rfc5735',
  'rfc6598',
  'rfc3849',
  'ipv6-linklocal',
  'multicast',
  'sinkholes',
  'public-dns-v4',
  'public-dns-v6',
];
const HOSTNAME_LISTS = ['tranco10k', 'alexa', 'url-shortener', 'whats-my-ip', 'security-provider-blogpost', 'dax30'];

function ip(v: 4 | 6, n: bigint, prefix?: number): Observable {
  const r = normaliseObservable(
    v === 4 ? 'ipv4-addr' : 'ipv6-addr',
    fromBig(v, n) + (prefix === undefined ? '' : `/${prefix}`),
  );
  assert.ok(r.ok, `test value ${fromBig(v, n)} is valid`);
  return r.observable;
}

for (const id of CIDR_LISTS) {
  test(`cidr list ${id}: first/last address and sub-ranges hit, neighbours follow the list`, {
    skip: SKIP,
  }, async () => {
    const r = await corpusMatcher();
    const l = raw(id);
    assert.equal(l.type, 'cidr');
    const ranges = l.list.map(toRange);
    let hits = 0;
    let misses = 0;
    for (const e of sample(l.list, 300)) {
      const rg = toRange(e);
      const max = rg.v === 4 ? (1n << 32n) - 1n : (1n << 128n) - 1n;
      for (const n of [rg.lo, rg.hi, (rg.lo + rg.hi) / 2n]) {
        assert.ok(hitIds(r, ip(rg.v, n)).includes(id), `${fromBig(rg.v, n)} (inside ${e}) hits ${id}`);
        hits++;
      }
      // just outside the range: hits only when another entry of the list covers it
      for (const n of [rg.lo - 1n, rg.hi + 1n]) {
        if (n < 0n || n > max) continue;
        const expect = covered(ranges, { v: rg.v, lo: n, hi: n });
        assert.equal(hitIds(r, ip(rg.v, n)).includes(id), expect, `${fromBig(rg.v, n)} next to ${e}: listed=${expect}`);
        if (!expect) misses++;
      }
      // a CIDR observable hits when the whole range is inside a listed one
      const bits = rg.v === 4 ? 32 : 128;
      const span = rg.hi - rg.lo + 1n;
      const prefix = bits - (span.toString(2).length - 1);
      if (prefix < bits) {
        const sub = ip(rg.v, rg.lo, prefix + 1);
        assert.ok(hitIds(r, sub).includes(id), `${sub.value} inside ${e}`);
      }
      if (prefix > 0) {
        const superRange: Range = toRange(`${fromBig(rg.v, rg.lo)}/${prefix - 1}`);
        const sup = ip(rg.v, superRange.lo, prefix - 1);
        assert.equal(hitIds(r, sup).includes(id), covered(ranges, superRange), `${sup.value} around ${e}`);
      }
    }
    assert.ok(hits > 0 && misses > 0, `exercised hits (${hits}) and misses (${misses})`);
  });
}

test('cidr lists: IPv6 and upper-case entries, IPv4 values never hit IPv6 lists', { skip: SKIP }, async () => {
  const r = await corpusMatcher();
  const v6 = (s: string) => {
    const o = normaliseObservable('ipv6-addr', s);
    assert.ok(o.ok);
    return hitIds(r, o.observable);
  };
  // rfc3849 lists 2001:DB8::/32 and ipv6-linklocal FE80::/10 in upper case
  assert.ok(v6('2001:DB8:ffff::1').includes('rfc3849'));
  assert.ok(!v6('2001:db9::1').includes('rfc3849'));
  assert.ok(v6('febf:ffff::1').includes('ipv6-linklocal'));
  assert.ok(!v6('fec0::1').includes('ipv6-linklocal'));
  assert.ok(v6('fe80::/11').includes('ipv6-linklocal'));
  assert.ok(!v6('fe80::/9').includes('ipv6-linklocal'));
  const o = normaliseObservable('ipv4-addr', '0.0.0.1');
  assert.ok(o.ok);
  assert.ok(!hitIds(r, o.observable).some((id) => id.includes('v6') || id === 'ipv6-linklocal' || id === 'rfc3849'));
});

test('cidr lists apply to IPs only (matching_attributes): a domain or URL on a listed IP is not flagged by them', {
  skip: SKIP,
}, async () => {
  const r = await corpusMatcher();
  const u = normaliseObservable('url', 'http://10.1.2.3/x');
  assert.ok(u.ok);
  assert.deepEqual(
    hitIds(r, u.observable).filter((id) => CIDR_LISTS.includes(id)),
    [],
  );
});

for (const id of HOSTNAME_LISTS) {
  test(`hostname list ${id}: entries and subdomains hit, label-boundary near misses do not`, {
    skip: SKIP,
  }, async () => {
    const r = await corpusMatcher();
    const l = raw(id);
    assert.equal(l.type, 'hostname');
    const entries = hostEntrySet(l);
    const forUrl = (l.matching_attributes ?? []).some((a) => a === 'url' || a === 'uri');
    let checked = 0;
    for (const e of sample(l.list, 250)) {
      const host = e
        .trim()
        .replace(/^\.+|\.+$/g, '')
        .toLowerCase();
      const d = normaliseObservable('domain-name', host);
      if (!d.ok) continue; // e.g. a bare label: not a domain observable
      checked++;
      assert.ok(hitIds(r, d.observable).includes(id), `${host} hits ${id}`);
      const sub = normaliseObservable('domain-name', `deep.sub.${host}`);
      assert.ok(sub.ok);
      assert.ok(hitIds(r, sub.observable).includes(id), `deep.sub.${host} hits ${id}`);
      const upper = normaliseObservable('domain-name', `WWW.${host.toUpperCase()}`);
      assert.ok(upper.ok);
      assert.ok(hitIds(r, upper.observable).includes(id), `upper-case WWW.${host} hits ${id}`);
      for (const near of [`not${host}`, `${host}x`, `${host.replace(/^[^.]+/, (m) => `${m}-x`)}`]) {
        const n = normaliseObservable('domain-name', near);
        if (!n.ok) continue;
        assert.equal(hitIds(r, n.observable).includes(id), hostListed(entries, n.observable.value), `${near} vs ${id}`);
      }
      const url = normaliseObservable('url', `https://a.${host}:8443/path?q=${host}`);
      assert.ok(url.ok);
      assert.equal(hitIds(r, url.observable).includes(id), forUrl, `URL on ${host}: ${id} applies to URLs: ${forUrl}`);
      const mail = normaliseObservable('email-addr', `someone@${host}`);
      assert.ok(mail.ok);
      assert.ok(
        !hitIds(r, mail.observable).includes(id),
        `${id} does not list e-mail types, so someone@${host} is not on it`,
      );
    }
    assert.ok(checked >= Math.min(10, l.list.length), `checked ${checked} entries`);
  });
}

test('hostname: notgoogle.com is not google.com; google.com.evil.net is not either', { skip: SKIP }, async () => {
  const r = await corpusMatcher();
  const d = (s: string) => {
    const o = normaliseObservable('domain-name', s);
    assert.ok(o.ok);
    return hitIds(r, o.observable);
  };
  assert.ok(d('mail.google.com').includes('tranco10k'));
  assert.ok(!d('notgoogle.com').includes('tranco10k'));
  assert.ok(!d('google.com.evil-example.net').includes('tranco10k'));
  // dax30 writes entries with a leading dot (".bmw.de"): the name itself and subdomains hit
  assert.ok(d('bmw.de').includes('dax30'));
  assert.ok(d('www.bmw.de').includes('dax30'));
  assert.ok(!d('xbmw.de').includes('dax30'));
});
