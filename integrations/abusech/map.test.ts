import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { corpusPath } from '../../test/helpers/corpus.js';
import { mapUrlhausPayload, mapUrlhausUrl } from './urlhaus/map.js';
import { mapThreatfoxIoc } from './threatfox/map.js';
import { mapBazaarSample } from './malwarebazaar/map.js';
import { parseApiTime } from '../../src/formats/api-time.js';
import { deterministicId } from '../../src/core/ids.js';
import type { MapEnv } from './common-map.js';
import { must } from '../../test/helpers/must.js';

const env: MapEnv = { now: '2026-03-01T12:00:00.000Z', validDays: 30, source: 't' };
const samples = (name: string) => corpusPath(`elastic-ecs-rfc0008-samples/${name}.ndjson`);
const records = (p: string) =>
  readFileSync(p, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));

test('parseApiTime reads the abuse.ch and OTX time formats as UTC', () => {
  assert.equal(parseApiTime('2021-01-14 21:19:13 UTC'), '2021-01-14T21:19:13.000Z');
  assert.equal(parseApiTime('2021-01-14 06:14:05'), '2021-01-14T06:14:05.000Z');
  assert.equal(parseApiTime('2021-06-15T08:22:52.123456'), '2021-06-15T08:22:52.123Z');
  assert.equal(parseApiTime('2021-02-30 00:00:00'), undefined);
  assert.equal(parseApiTime('yesterday'), undefined);
  assert.equal(parseApiTime(null), undefined);
});

test('URLhaus url records from the API (real records)', { skip: samples('urlhaus_api_urls').skip }, () => {
  const out = records(samples('urlhaus_api_urls').path).map((r, i) => mapUrlhausUrl(r, i, env));
  assert.equal(out.length, 3);
  assert.ok(out.every((m) => m.items.length === 1 && !m.rejection));
  const ind = must(must(out[0], 'out[0]').items[0], 'out[0].items[0]').object as any;
  assert.equal(ind.pattern, "[url:value = 'http://103.72.223.103:34613/Mozi.m']");
  assert.equal(ind.valid_from, '2021-01-14T21:19:13.000Z');
  assert.equal(ind.valid_until, '2021-02-13T21:19:13.000Z');
  assert.deepEqual(ind.labels, ['malware_download', 'elf', 'mozi']);
  assert.deepEqual(ind.external_references, [
    { source_name: 'urlhaus', external_id: '961548', url: 'https://urlhaus.abuse.ch/url/961548/' },
  ]);
  assert.equal(ind.description, 'URLhaus malware_download, status online, reported by lrz_urlhaus');
});

test('URLhaus payload, MalwareBazaar and ThreatFox records (real records)', {
  skip: samples('threatfox_api').skip,
}, () => {
  const pay = records(samples('urlhaus_api_payloads').path).map((r, i) => mapUrlhausPayload(r, i, env));
  assert.equal(pay.filter((m) => !m.rejection).length, 3);
  assert.equal(
    (must(must(pay[0], 'pay[0]').items[0], 'pay[0].items[0]').object as any).pattern,
    "[file:hashes.'SHA-256' = '48a6aee18bcfe9058b35b1018832aef1c9efd8f50ac822f49abb484a5e2a4b1f']",
  );

  const mb = records(samples('malwarebazaar_api').path).map((r, i) => mapBazaarSample(r, i, env));
  assert.equal(mb.filter((m) => !m.rejection).length, 3);
  const [ind, mal, rel] = must(mb[0], 'mb[0]').items.map((i) => i.object as any);
  assert.equal(
    ind.pattern,
    "[file:hashes.'SHA-256' = '832fb4090879c1bebe75bea939a9c5724dbf87898febd425f94f7e03ee687d3b']",
  );
  assert.equal(ind.valid_from, '2021-05-28T12:06:39.000Z');
  assert.match(
    ind.description,
    /^MalwareBazaar sample Mozi\.a \(elf\), MD5 781228e0a889c0624a5f1d8e9f5b0b30, SHA-1 e7f6bf55ee9477a4208f0253d94deff4453aaa64, signature Mozi$/,
  );
  assert.deepEqual(
    { type: mal.type, name: mal.name, id: mal.id, is_family: mal.is_family },
    { type: 'malware', name: 'Mozi', id: deterministicId('malware', 'family:mozi'), is_family: true },
  );
  assert.deepEqual([rel.relationship_type, rel.source_ref, rel.target_ref], ['indicates', ind.id, mal.id]);

  const tf = records(samples('threatfox_api').path).map((r, i) => mapThreatfoxIoc(r, i, env));
  assert.equal(tf.filter((m) => !m.rejection).length, 3);
  const t0 = must(must(tf[0], 'tf[0]').items[0], 'tf[0].items[0]').object as any;
  assert.equal(t0.pattern, "[ipv4-addr:value = '46.229.199.126']");
  assert.equal(t0.confidence, 75);
  assert.equal(must(must(tf[0], 'tf[0]').items[0], 'tf[0].items[0]').confidence, 75);
  assert.equal(t0.description, 'ThreatFox botnet_cc (Mozi), port 53822, reported by abuse_ch');
  assert.deepEqual(
    t0.external_references.map((r: any) => r.source_name),
    ['threatfox', 'threatfox-reference', 'malpedia'],
  );
  assert.equal(
    (must(must(tf[0], 'tf[0]').items[1], 'tf[0].items[1]').object as any).id,
    mal.id,
    'one malware id for Mozi across ThreatFox and MalwareBazaar',
  );
});

test('bad records are rejected with a reason and location, the rest keep going', () => {
  assert.deepEqual(mapThreatfoxIoc({ id: '7', ioc_type: 'sha3_384_hash', ioc: 'ab' }, 4, env).rejection, {
    reason: 'unsupported_type',
    message: 'ThreatFox ioc_type "sha3_384_hash" is not mapped',
    location: { source: 't', index: 4, objectId: 'threatfox:7' },
  });
  assert.equal(
    mapThreatfoxIoc({ id: '8', ioc_type: 'md5_hash', ioc: 'a'.repeat(64) }, 0, env).rejection?.reason,
    'invalid_hash',
  );
  assert.equal(mapUrlhausUrl({ url: 'not a url' }, 0, env).rejection?.reason, 'invalid_url');
  assert.equal(mapBazaarSample([], 0, env).rejection?.reason, 'not_object');
  const v6 = mapThreatfoxIoc(
    {
      id: '9',
      ioc_type: 'ip:port',
      ioc: '[2001:DB8::1]:443',
      first_seen: '2021-06-15 08:22:52 UTC',
      last_seen: '2021-06-20 00:00:00 UTC',
    },
    0,
    env,
  );
  const ind = must(v6.items[0], 'v6.items[0]').object as any;
  assert.equal(ind.pattern, "[ipv6-addr:value = '2001:db8::1']");
  assert.equal(ind.modified, '2021-06-20T00:00:00.000Z');
  assert.equal(ind.valid_until, '2021-07-20T00:00:00.000Z', 'valid_until counts from last_seen');
});

test('ids and hashes with unpaired surrogates map without URIError (found by the fuzz suite)', () => {
  const env: MapEnv = { now: '2026-01-15T12:00:00.000Z', source: 's' };
  const tf = mapThreatfoxIoc(
    {
      id: '12\ud800',
      ioc: 'evil.example',
      ioc_type: 'domain',
      malware_printable: 'X',
      first_seen: '2026-01-01 10:00:00 UTC',
    },
    0,
    env,
  );
  assert.equal(tf.items.filter((i) => i.object.type === 'indicator').length, 1);
  assert.ok(JSON.stringify(tf.items).includes('threatfox.abuse.ch/ioc/12%EF%BF%BD/'));
  const mb = mapBazaarSample({ sha256_hash: `${'a'.repeat(63)}\udc00` }, 0, env);
  assert.equal(mb.rejection?.reason, 'invalid_hash');
  // a cut inside a surrogate pair leaves no lone surrogate: the name ends in U+FFFD
  const named = mapBazaarSample({ sha256_hash: 'a'.repeat(64), file_name: `${'x'.repeat(255)}\ud83d\ude00` }, 0, env);
  assert.ok(
    String(named.items.find((i) => i.object.type === 'indicator')?.object.description).includes(
      `${'x'.repeat(255)}\ufffd`,
    ),
  );
});

test('a record that is not an object, or lacks the value it is about, is rejected naming the field and its place', () => {
  const cases = [
    [mapBazaarSample, 'MalwareBazaar record', 'sha256_hash'],
    [mapUrlhausUrl, 'URLhaus record', 'url'],
    [mapUrlhausPayload, 'URLhaus payload record', 'sha256_hash'],
  ] as const;
  for (const [map, what, field] of cases) {
    assert.deepEqual(map('x', 3, env).rejection, {
      reason: 'not_object',
      message: `${what} is not a JSON object`,
      location: { source: 't', index: 3 },
    });
    assert.deepEqual(map({ [field]: '  ' }, 5, env).rejection, {
      reason: 'missing_value',
      message: `${what} has no ${field}`,
      location: { source: 't', index: 5 },
    });
  }
});
