/**
 * Corpus warninglists of types string, substring and regex: exact matches on canonical values
 * (any case of a host or hash), no parent/child spill-over for strings, substring hits anywhere
 * in the value, regexes compared with JavaScript's own engine, `matching_attributes` respected.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normaliseObservable, normaliseHash } from '../../src/core/observable.js';
import type { Observable } from '../../src/core/stix.js';
import { compilePatterns, vetPattern } from '../../src/filter/regex-nfa.js';
import { SKIP, raw, corpusMatcher, hitIds, sample } from './corpus-helpers.js';
import { must } from '../helpers/must.js';

const STRING_HOST_LISTS = [
  'cloudflare-top1k',
  'cisco_top1000',
  'second-level-tlds',
  'rfc6761',
  'microsoft-office365',
  'google',
];
const STRING_HASH_LISTS = ['empty-hashes', 'eicar.com', 'common-ioc-false-positive'];

function obs(type: Parameters<typeof normaliseObservable>[0], v: string): Observable | undefined {
  const r = normaliseObservable(type, v);
  return r.ok ? r.observable : undefined;
}

for (const id of STRING_HOST_LISTS) {
  test(`string list ${id}: exact canonical matches only`, { skip: SKIP }, async () => {
    const r = await corpusMatcher();
    const l = raw(id);
    assert.equal(l.type, 'string');
    const canon = new Set(l.list.map((e) => obs('domain-name', e)?.value).filter((v): v is string => v !== undefined));
    let checked = 0;
    for (const e of sample(l.list, 300)) {
      const d = obs('domain-name', e);
      if (!d) {
        // e.g. ".google.ad" or a bare TLD: no canonical domain can equal it
        continue;
      }
      checked++;
      assert.ok(hitIds(r, d).includes(id), `${d.value} hits ${id}`);
      const upper = obs('domain-name', `${e.toUpperCase()}.`);
      assert.ok(upper && hitIds(r, upper).includes(id), `${e.toUpperCase()}. hits ${id}`);
      const child = obs('domain-name', `child-x.${d.value}`);
      assert.ok(child);
      assert.equal(hitIds(r, child).includes(id), canon.has(child.value), `child-x.${d.value}: exact only`);
      const parent = obs('domain-name', d.value.slice(d.value.indexOf('.') + 1));
      if (parent) assert.equal(hitIds(r, parent).includes(id), canon.has(parent.value), `${parent.value}: exact only`);
    }
    assert.ok(checked > 0 || id === 'tlds', `checked ${checked}`);
  });
}

test('string list tlds: bare TLD entries never equal a canonical domain; second-level-tlds does not spill onto children', {
  skip: SKIP,
}, async () => {
  const r = await corpusMatcher();
  const info = r.matcher.lists.find((l) => l.id === 'tlds');
  assert.ok(info);
  assert.equal(info.entries, 0, 'no TLD entry is a valid two-label domain');
  const d = obs('domain-name', 'example.com');
  assert.ok(d);
  assert.ok(!hitIds(r, d).includes('tlds'));
  const co = obs('domain-name', 'co.uk');
  assert.ok(co && hitIds(r, co).includes('second-level-tlds'));
  const child = obs('domain-name', 'bbc.co.uk');
  assert.ok(child && !hitIds(r, child).includes('second-level-tlds'));
});

for (const id of STRING_HASH_LISTS) {
  test(`string list ${id}: hashes of the listed algorithms hit in any case, a changed digit does not`, {
    skip: SKIP,
  }, async () => {
    const r = await corpusMatcher();
    const l = raw(id);
    const algs = new Set((l.matching_attributes ?? []).map((a) => a.replace(/^filename\|/, '')));
    const listed = new Set(l.list.map((e) => e.toLowerCase()));
    let checked = 0;
    for (const e of l.list) {
      const h = normaliseHash('file', e);
      if (!h.ok) continue; // sha224, ssdeep: no file observable of that kind
      const alg = must(h.observable.hash, 'h.observable.hash').toLowerCase().replace('-', '');
      checked++;
      assert.equal(hitIds(r, h.observable).includes(id), algs.has(alg), `${alg} ${e} vs ${id}`);
      const up = normaliseHash('file', e.toUpperCase());
      assert.ok(up.ok);
      assert.equal(hitIds(r, up.observable).includes(id), algs.has(alg));
      const changed = e.slice(0, -1) + (e.endsWith('0') ? '1' : '0');
      const c = normaliseHash('file', changed);
      assert.ok(c.ok);
      assert.equal(hitIds(r, c.observable).includes(id), listed.has(changed.toLowerCase()) && algs.has(alg));
    }
    assert.ok(checked > 0);
    const info = must(
      r.matcher.lists.find((x) => x.id === id),
      'r.matcher.lists.find((x) => x.id === id)',
    );
    assert.equal(
      info.entries,
      l.list.filter((e) => normaliseHash('file', e).ok).length,
      'only md5/sha1/sha256/sha512 entries are in use',
    );
  });
}

test('string lists do not apply outside matching_attributes: a listed domain as an e-mail domain or URL', {
  skip: SKIP,
}, async () => {
  const r = await corpusMatcher();
  const u = obs('url', 'https://google.com/');
  assert.ok(u);
  // string lists compare whole values: the URL is not the domain
  assert.ok(
    !hitIds(r, u).some((id) => ['cloudflare-top1k', 'cisco_top1000', 'google', 'microsoft-office365'].includes(id)),
  );
});

for (const id of ['automated-malware-analysis', 'microsoft-attack-simulator']) {
  test(`substring list ${id}: an entry anywhere in the value hits, per the reference includes()`, {
    skip: SKIP,
  }, async () => {
    const r = await corpusMatcher();
    const l = raw(id);
    assert.equal(l.type, 'substring');
    const entries = l.list.map((e) => e.toLowerCase());
    const ref = (v: string) => entries.some((e) => v.toLowerCase().includes(e));
    let checked = 0;
    for (const e of l.list) {
      const values = [
        obs('domain-name', `x1.${e}`),
        obs('domain-name', `${e}.example.net`),
        obs('url', `https://${e}/Path/${e.toUpperCase()}`),
      ];
      for (const v of values) {
        if (!v) continue;
        checked++;
        assert.equal(hitIds(r, v).includes(id), ref(v.value), `${v.type} ${v.value}`);
        assert.ok(ref(v.value), `reference agrees that ${v.value} contains an entry`);
      }
      // remove one character from the middle: a near miss unless another entry still occurs
      const cut = e.slice(0, Math.floor(e.length / 2)) + e.slice(Math.floor(e.length / 2) + 1);
      const near = obs('domain-name', `x.${cut}.example.org`);
      if (near) assert.equal(hitIds(r, near).includes(id), ref(near.value), near.value);
    }
    assert.ok(checked > 10);
  });
}

test('substring list microsoft-attack-simulator applies to IPs (ip-src/ip-dst), automated-malware-analysis does not', {
  skip: SKIP,
}, async () => {
  const r = await corpusMatcher();
  const l = raw('microsoft-attack-simulator');
  const ipEntry = l.list.find((e) => /^\d+\.\d+\.\d+\.\d+$/.test(e));
  assert.ok(ipEntry, 'the list has an IPv4 entry');
  const o = obs('ipv4-addr', ipEntry);
  assert.ok(o && hitIds(r, o).includes('microsoft-attack-simulator'));
  const mail = obs('email-addr', `x@${raw('automated-malware-analysis').list[0]}`);
  assert.ok(
    mail && !hitIds(r, mail).includes('automated-malware-analysis'),
    'e-mail is not in its matching_attributes',
  );
});

test('regex list common-contact-emails: agrees with the JavaScript engine on e-mail addresses', {
  skip: SKIP,
}, async () => {
  const r = await corpusMatcher();
  const l = raw('common-contact-emails');
  assert.equal(l.type, 'regex');
  const js = l.list.map((p) => {
    const m = must(/^\/(.*)\/([a-z]*)$/s.exec(p), '/^\\/(.*)\\/([a-z]*)$/s.exec(p)');
    return new RegExp(must(m[1], 'm[1]').replace(/\\@/g, '@'), must(m[2], 'm[2]').replace('g', ''));
  });
  const locals = ['abuse', 'ABUSE', 'noc', 'soc', 'security', 'securityx', 'xabuse', 'abuse.team', 'info', 'nocs'];
  const domains = ['example.com', 'sub.example.org', 'localhost.localdomain'];
  let hits = 0;
  for (const lp of locals) {
    for (const d of domains) {
      const o = obs('email-addr', `${lp}@${d}`);
      assert.ok(o);
      const expect = js.some((re) => re.test(o.value));
      assert.equal(hitIds(r, o).includes('common-contact-emails'), expect, o.value);
      if (expect) hits++;
    }
  }
  assert.equal(hits, 5 * domains.length, 'abuse, ABUSE, noc, soc, security hit');
  const dom = obs('domain-name', 'abuse.example.com');
  assert.ok(dom && !hitIds(r, dom).includes('common-contact-emails'), 'the list applies to e-mail types only');
});

test('regex list phone_numbers: every pattern compiles and agrees with the JavaScript engine; the list is inert (no phone observables)', {
  skip: SKIP,
}, async () => {
  const r = await corpusMatcher();
  const l = raw('phone_numbers');
  for (const p of l.list) assert.equal(vetPattern(p), undefined, p);
  const info = must(
    r.matcher.lists.find((x) => x.id === 'phone_numbers'),
    "r.matcher.lists.find((x) => x.id === 'phone_numbers')",
  );
  assert.deepEqual(info.types, []);
  // differential check on generated digit strings, some built to match
  let seed = 42;
  const rnd = (n: number) => {
    seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff;
    return seed % n;
  };
  const values: string[] = [];
  for (let i = 0; i < 400; i++) {
    let v = rnd(3) === 0 ? '+1' : rnd(2) ? '0033' : '';
    for (let k = rnd(14); k > 0; k--) v += '0123456789 5'[rnd(12)];
    if (rnd(2)) v += ['55501', '19900', '26191', '0170', '7700900'][rnd(5)];
    for (let k = rnd(6); k > 0; k--) v += String(rnd(10));
    values.push(v);
  }
  let agreeHits = 0;
  for (const p of l.list) {
    const m = must(/^\/(.*)\/([a-z]*)$/s.exec(p), '/^\\/(.*)\\/([a-z]*)$/s.exec(p)');
    const re = new RegExp(must(m[1], 'm[1]'), must(m[2], 'm[2]').replace('g', ''));
    const mine = compilePatterns([p]);
    for (const v of values) {
      const expect = re.test(v);
      assert.equal(mine.search(v) >= 0, expect, `${p} on ${v}`);
      if (expect) agreeHits++;
    }
  }
  assert.ok(agreeHits > 20, `generated values matched ${agreeHits} times`);
});
