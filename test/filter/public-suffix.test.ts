/**
 * The PSL rule (docs/warninglists.md, a deliberate difference from MISP): a `hostname` entry that
 * is a Public Suffix List private-section suffix, or lies above one, does not withhold the hosts
 * independently registered under it (dynamic DNS, free hosting, CDN and cloud tenants); it still
 * withholds the host itself, and the hit is reported (with `private_suffix`) either way.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PublishFilter } from '../../src/filter/policy.js';
import { WarninglistMatcher, parseWarninglist } from '../../src/filter/warninglists.js';
import { privateSuffixOf } from '../../src/filter/public-suffix.js';
import { normaliseObservable } from '../../src/core/observable.js';
import type { ObservableType } from '../../src/core/stix.js';
import { SKIP, corpusMatcher } from './corpus-helpers.js';

function o(type: ObservableType, v: string) {
  const r = normaliseObservable(type, v);
  assert.ok(r.ok, v);
  return r.observable;
}

function topSites() {
  const r = parseWarninglist(
    {
      name: 'Top sites',
      type: 'hostname',
      matching_attributes: ['hostname', 'domain', 'url', 'email'],
      list: ['duckdns.org', 'github.io', 'amazonaws.com', 'google.com', 'mysite.github.io'],
    },
    'fixture',
  );
  assert.ok(r.ok);
  return WarninglistMatcher.compile([r.list]).matcher;
}

const decide = (f: PublishFilter, type: ObservableType, v: string) => {
  const d = f.check(o(type, v), ['feed']);
  return { publish: d.publish, hits: d.hits.map((h) => [h.list, h.entry, h.private_suffix ?? null]) };
};

test('privateSuffixOf: the private-section suffix from the PSL package, none for ICANN suffixes', () => {
  assert.equal(privateSuffixOf('evil.duckdns.org'), 'duckdns.org');
  assert.equal(privateSuffixOf('b.s3.amazonaws.com'), 's3.amazonaws.com');
  assert.equal(privateSuffixOf('x.eu-west-1.compute.amazonaws.com'), 'eu-west-1.compute.amazonaws.com');
  assert.equal(privateSuffixOf('mail.google.com'), undefined);
  assert.equal(privateSuffixOf('foo.co.uk'), undefined);
});

test('a tenant under a private-section suffix is reported, not withheld; the suffix host itself is withheld', () => {
  const f = new PublishFilter({ warninglists: topSites() });
  assert.deepEqual(decide(f, 'domain-name', 'evil.duckdns.org'), {
    publish: true,
    hits: [['Top sites', 'duckdns.org', 'duckdns.org']],
  });
  assert.deepEqual(decide(f, 'url', 'http://login.evil.duckdns.org/x'), {
    publish: true,
    hits: [['Top sites', 'duckdns.org', 'duckdns.org']],
  });
  assert.deepEqual(decide(f, 'email-addr', 'payroll@evil.duckdns.org'), {
    publish: true,
    hits: [['Top sites', 'duckdns.org', 'duckdns.org']],
  });
  // above the private suffix: amazonaws.com listed, s3.amazonaws.com is the private suffix
  assert.deepEqual(decide(f, 'domain-name', 'phish.s3.amazonaws.com'), {
    publish: true,
    hits: [['Top sites', 'amazonaws.com', 's3.amazonaws.com']],
  });
  assert.deepEqual(decide(f, 'domain-name', 'duckdns.org'), {
    publish: false,
    hits: [['Top sites', 'duckdns.org', null]],
  });
  assert.deepEqual(decide(f, 'domain-name', 'amazonaws.com'), {
    publish: false,
    hits: [['Top sites', 'amazonaws.com', null]],
  });
  assert.deepEqual(f.withheld, new Map([['Top sites', 2]]));
});

test('a listed tenant withholds its own subdomains; ICANN-registered domains keep MISP semantics', () => {
  const f = new PublishFilter({ warninglists: topSites() });
  assert.deepEqual(decide(f, 'domain-name', 'www.mysite.github.io'), {
    publish: false,
    hits: [['Top sites', 'mysite.github.io', null]],
  });
  assert.deepEqual(decide(f, 'domain-name', 'other.github.io'), {
    publish: true,
    hits: [['Top sites', 'github.io', 'github.io']],
  });
  assert.deepEqual(decide(f, 'domain-name', 'mail.google.com'), {
    publish: false,
    hits: [['Top sites', 'google.com', null]],
  });
});

test('the publish allowlist keeps its meaning: an operator entry covers everything under it', () => {
  const f = new PublishFilter({ allowlist: ['duckdns.org'] });
  assert.equal(f.check(o('domain-name', 'evil.duckdns.org'), ['feed']).publish, false);
});

test('corpus: tranco10k (hostname list) no longer withholds tenant hosts, still withholds the listed hosts', {
  skip: SKIP,
}, async () => {
  const r = await corpusMatcher();
  const f = new PublishFilter({ warninglists: r.matcher });
  for (const host of [
    'secure-login.duckdns.org',
    'paypa1.github.io',
    'x.herokuapp.com',
    'o365.web.app',
    'a.b.workers.dev',
  ]) {
    const d = f.check(o('domain-name', host), ['feed']);
    assert.equal(d.publish, true, host);
    assert.ok(
      d.hits.some((h) => h.id === 'tranco10k' && h.private_suffix !== undefined),
      `${host} reported on tranco10k`,
    );
  }
  for (const host of ['www.google.com', 'github.io', 'duckdns.org'])
    assert.equal(f.check(o('domain-name', host), ['feed']).publish, false, host);
});
