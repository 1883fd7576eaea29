import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deterministicId, indicatorIdForPattern, observableScoId } from '../../src/core/ids.js';
import { s, validate } from '../../src/core/schema.js';
import type { StixObject } from '../../src/core/stix.js';
import { runEnricher } from '../../src/enrich/runner.js';
import { lookupNoteId } from '../../src/enrich/records.js';
import { loopbackHttp, tempStore } from '../helpers/enrich-loopback.js';
import type { EnricherDefinition } from '../../src/enrich/types.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { PassiveDnsSimulator, cofRecord } from '../../integrations/passive_dns/simulator.js';
import { ShodanSimulator, makeShodanHost } from '../../integrations/shodan/simulator.js';
import { RdapSimulator, makeRdapDomain } from '../../integrations/rdap/simulator.js';
import { passiveDnsEnricher } from '../../integrations/passive_dns/index.js';
import { shodanEnricher } from '../../integrations/shodan/index.js';
import { rdapEnricher } from '../../integrations/rdap/index.js';
import { must } from '../helpers/must.js';

/** The three enrichers through the engine's enrichment runner, against an embedded store. */
const NOW = Date.UTC(2026, 2, 2, 12, 0, 0);
const T1 = 1_767_225_600;
const T2 = 1_769_904_000;

function indicator(type: string, value: string): StixObject {
  const pattern = `[${type}:value = '${value}']`;
  return {
    type: 'indicator',
    spec_version: '2.1',
    id: indicatorIdForPattern(pattern),
    created: '2026-03-01T00:00:00.000Z',
    modified: '2026-03-01T00:00:00.000Z',
    pattern,
    pattern_type: 'stix',
    valid_from: '2026-03-01T00:00:00.000Z',
  };
}

function create(def: EnricherDefinition, options: Record<string, unknown>) {
  const r = validate(s.object(def.schema), options);
  assert.ok(r.ok, JSON.stringify(!r.ok && r.issues));
  return def.create(r.value, { logger: silentLogger(), configDir: '.', mappingsDir: '.' });
}

test('runner + passive_dns, shodan, rdap: resolutions, host names and registration stored; each service note fills the lookup note', async () => {
  const t = await tempStore();
  const http = loopbackHttp();
  const pdns = await new PassiveDnsSimulator({ username: 'u', password: 'p' }).start();
  const shodan = await new ShodanSimulator({ apiKey: 'k' }).start();
  const rdap = await new RdapSimulator().start();
  try {
    pdns.records.push(cofRecord('evil.example', '198.51.100.7', T1, T2, 12));
    shodan.hosts.set(
      '198.51.100.7',
      makeShodanHost('198.51.100.7', { hostnames: ['mail.evil.example'], tags: ['c2'] }),
    );
    rdap.domains.set('evil.example', makeRdapDomain('evil.example', { registrar: 'Fast Names Ltd' }));
    const dom = indicator('domain-name', 'evil.example');
    const ip = indicator('ipv4-addr', '198.51.100.7');
    await t.store.upsert(
      [
        { object: dom, source: 'feed-a', confidence: 40, tlp: 'green' },
        { object: ip, source: 'feed-a', confidence: 40, tlp: 'green' },
      ],
      { now: NOW - 60_000 },
    );
    const run = (id: string, def: EnricherDefinition, options: Record<string, unknown>) =>
      runEnricher({
        id,
        service: def.type,
        enricher: create(def, options),
        store: t.store,
        http,
        logger: silentLogger(),
        now: () => NOW,
        signal: new AbortController().signal,
        quota: {},
        cacheTtlMs: 86_400_000,
        maxPerRun: 100,
      });

    const p = await run('pdns', passiveDnsEnricher, { url: `${pdns.base}/pdns/query/`, username: 'u', password: 'p' });
    assert.equal(p.stopped, undefined, p.error?.message);
    assert.equal(p.lookups, 2);
    assert.equal(p.found, 2);
    const domId = observableScoId({ type: 'domain-name', value: 'evil.example' });
    const ipId = observableScoId({ type: 'ipv4-addr', value: '198.51.100.7' });
    const rel = must(
      await t.store.get(deterministicId('relationship', `resolves-to|${domId}|${ipId}`)),
      "(await t.store.get(deterministicId('relationship', `resol...",
    );
    assert.equal(rel.relationship_type, 'resolves-to');
    assert.deepEqual(Object.keys(must(rel.x_stixgate, 'rel.x_stixgate').sources), ['enrich:pdns']);
    const od = must(
      await t.store.get(deterministicId('observed-data', 'passive_dns|evil.example|A|198.51.100.7')),
      "(await t.store.get(deterministicId('observed-data', 'pass...",
    );
    assert.equal(od.number_observed, 12);
    assert.ok(await t.store.get(domId), 'the SCOs are stored');
    const note = must(
      await t.store.get(lookupNoteId('pdns', { type: 'domain-name', value: 'evil.example' })),
      "(await t.store.get(lookupNoteId('pdns', { type: 'domain-n...",
    );
    assert.match(
      String(note.content),
      /passive_dns report for evil\.example/,
      'passive DNS returns no note: the runner writes its own',
    );

    const sh = await run('shodan', shodanEnricher, { url: shodan.base, api_key: 'k' });
    assert.equal(sh.stopped, undefined, sh.error?.message);
    assert.equal(sh.found, 1);
    const shNote = must(
      await t.store.get(lookupNoteId('shodan', { type: 'ipv4-addr', value: '198.51.100.7' })),
      "(await t.store.get(lookupNoteId('shodan', { type: 'ipv4-a...",
    );
    assert.match(String(shNote.abstract), /^Shodan: 198\.51\.100\.7 has 3 open ports$/);
    assert.deepEqual((shNote.x_stixgate_shodan as { hostnames: string[] }).hostnames, ['mail.evil.example']);
    assert.ok((shNote.object_refs as string[]).includes(ip.id), 'the runner adds the indicator to the note');
    assert.equal(
      must(
        must(await t.store.get(ip.id), '(await t.store.get(ip.id))').x_stixgate,
        '(await t.store.get(ip.id)).x_stixgate',
      ).sources['enrich:shodan']?.confidence,
      80,
      'the c2 tag is a verdict',
    );

    const rd = await run('rdap', rdapEnricher, { url: rdap.base });
    assert.equal(rd.stopped, undefined, rd.error?.message);
    const rdNote = must(
      await t.store.get(lookupNoteId('rdap', { type: 'domain-name', value: 'evil.example' })),
      "(await t.store.get(lookupNoteId('rdap', { type: 'domain-n...",
    );
    assert.equal((rdNote.x_stixgate_rdap as { registrar: string }).registrar, 'Fast Names Ltd');
    assert.ok(rdap.requests.every((r) => r.path.startsWith('/domain/') || r.path.startsWith('/ip/')));
    // Shodan's host name resolution shares the relationship id scheme with passive DNS
    const mailId = observableScoId({ type: 'domain-name', value: 'mail.evil.example' });
    assert.ok(await t.store.get(deterministicId('relationship', `resolves-to|${mailId}|${ipId}`)));
  } finally {
    await Promise.all([pdns.close(), shodan.close(), rdap.close()]);
    await http.close();
    await t.cleanup();
  }
});

test("the engine's enrichers schema accepts the three types: common keys, free-tier quota defaults, own keys, secrets", async () => {
  const { buildEnrichersSchema } = await import('../../src/enrich/schema.js');
  const schema = buildEnrichersSchema([shodanEnricher, rdapEnricher, passiveDnsEnricher]);
  const r = validate(schema, {
    sh: { type: 'shodan', api_key: 'k' },
    rd: { type: 'rdap' },
    pd: { type: 'passive_dns', username: 'u', password: 'p', quota: { per_minute: 5, per_day: 1000 } },
  });
  assert.ok(r.ok, JSON.stringify(!r.ok && r.issues));
  const v = r.value as Record<string, Record<string, any>>;
  assert.deepEqual(must(v.sh, 'v.sh').quota, { per_minute: 60 });
  assert.equal(must(v.sh, 'v.sh').url, 'https://api.shodan.io/');
  assert.equal(must(v.sh, 'v.sh').minify, true);
  assert.deepEqual(must(v.rd, 'v.rd').quota, { per_minute: 10 });
  assert.equal(must(v.rd, 'v.rd').bootstrap_url, 'https://data.iana.org/rdap/');
  assert.deepEqual(must(v.pd, 'v.pd').quota, { per_minute: 5, per_day: 1000 });
  assert.equal(must(v.pd, 'v.pd').max_records, 500);
  const bad = validate(schema, {
    sh: { type: 'shodan' },
    pd: { type: 'passive_dns', username: 'u', password: 'p', max_record: 3 },
  });
  assert.ok(!bad.ok);
  assert.deepEqual(bad.issues.map((i) => i.path).sort(), ['pd.max_record', 'sh.api_key']);
  assert.equal(must(shodanEnricher.schema.api_key, 'shodanEnricher.schema.api_key').secret, true);
  assert.equal(must(passiveDnsEnricher.schema.password, 'passiveDnsEnricher.schema.password').secret, true);
  assert.deepEqual(
    [shodanEnricher.secretPaths, passiveDnsEnricher.secretPaths, rdapEnricher.secretPaths],
    [['api_key'], ['password'], []],
  );
});
