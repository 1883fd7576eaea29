/**
 * Every mapping table under mappings/ goes through the hardened YAML loader and the schema
 * language: the shipped table loads, and a SOC engineer's broken edit fails at load with the file,
 * the YAML path of the entry and its line.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StixgateError } from '../../src/core/errors.js';
import { loadSinkMapping } from '../../src/delivery/records.js';
import { MAPPINGS_DIR } from '../../src/paths.js';
import { registry } from '../../integrations/index.js';
import { loadColumnMap } from '../../integrations/csv/column-map.js';
import { loadMispTable } from '../../integrations/misp/table.js';
import { loadOpenIocTerms } from '../../integrations/openioc/map.js';
import { loadOtxTypes } from '../../integrations/otx/types-table.js';
import { loadStix1Tables } from '../../integrations/stix1/common.js';
import type { SinkDefinition } from '../../src/delivery/types.js';
import { must } from '../helpers/must.js';

/** A copy of mappings/ with one line of one table replaced; returns the directory and the edited line's number. */
function edited(
  t: { after: (fn: () => void) => void },
  file: string,
  from: string,
  to: string,
): { dir: string; line: number } {
  const dir = mkdtempSync(join(tmpdir(), 'stixgate-mappings-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  cpSync(MAPPINGS_DIR, dir, { recursive: true });
  const text = readFileSync(join(dir, file), 'utf8');
  const at = text.indexOf(from);
  assert.ok(at >= 0, `${from} is in ${file}`);
  writeFileSync(join(dir, file), text.slice(0, at) + to + text.slice(at + from.length));
  return { dir, line: text.slice(0, at).split('\n').length };
}

/** Asserts a load fails as a configuration error naming the file, the YAML path and its line. */
function failsAt(load: () => unknown, file: string, path: string, line: number, why: RegExp): void {
  assert.throws(load, (e: unknown) => {
    assert.ok(e instanceof StixgateError, String(e));
    assert.equal(e.code, 'STIXGATE_ERR_CONFIG_INVALID');
    assert.ok(e.message.includes(file), `${e.message} names ${file}`);
    assert.ok(e.message.includes(`${path} (line ${line}, column `), `${e.message} locates ${path} at line ${line}`);
    assert.match(e.message, why);
    return true;
  });
}

test('MISP attribute table: loads; an unknown handler and a missing parameter fail at their entry', (t) => {
  const table = loadMispTable(MAPPINGS_DIR);
  assert.ok(table.attributes.size > 50, `${table.attributes.size} attribute types`);
  assert.deepEqual(table.attributes.get('md5'), { handler: 'hash', algorithm: 'MD5' });
  const a = edited(t, 'misp/attributes.yaml', 'ip-src: { handler: ip }', 'ip-src: { handler: ipp }');
  failsAt(
    () => loadMispTable(a.dir),
    'misp/attributes.yaml',
    'attributes.ip-src.handler',
    a.line,
    /one of ip, ip_port/,
  );
  const b = edited(t, 'misp/attributes.yaml', 'md5: { handler: hash, algorithm: MD5 }', 'md5: { handler: hash }');
  failsAt(
    () => loadMispTable(b.dir),
    'misp/attributes.yaml',
    'attributes.md5',
    b.line,
    /handler hash needs `algorithm`/,
  );
});

test('OTX indicator type table: loads; an unknown observable type and a misspelt key fail at their entry', (t) => {
  const table = loadOtxTypes(MAPPINGS_DIR);
  assert.deepEqual(table.types.get('FileHash-SHA256'), { observable: 'file', hash: 'SHA-256' });
  assert.deepEqual(table.types.get('CVE'), { object: 'vulnerability' });
  const a = edited(t, 'otx/indicator-types.yaml', 'IPv4: { observable: ipv4-addr }', 'IPv4: { observable: ipv4 }');
  failsAt(() => loadOtxTypes(a.dir), 'otx/indicator-types.yaml', 'types.IPv4.observable', a.line, /one of ipv4-addr/);
  const b = edited(t, 'otx/indicator-types.yaml', 'IPv4: { observable: ipv4-addr }', 'IPv4: { observabel: ipv4-addr }');
  failsAt(
    () => loadOtxTypes(b.dir),
    'otx/indicator-types.yaml',
    'types.IPv4.observabel',
    b.line,
    /unknown key \(did you mean "observable"\?\)/,
  );
});

test('OpenIOC term table: loads; a path that is not a STIX object path fails at its entry', (t) => {
  const terms = loadOpenIocTerms(MAPPINGS_DIR);
  assert.deepEqual(terms.get('FileItem/Md5sum'), { path: 'file:hashes.MD5', kind: 'hash' });
  const a = edited(t, 'openioc/terms.yaml', 'path: "file:hashes.MD5", kind: hash', 'path: "file hashes", kind: hash');
  failsAt(
    () => loadOpenIocTerms(a.dir),
    'openioc/terms.yaml',
    'terms.FileItem/Md5sum.path',
    a.line,
    /file hashes is not a STIX object path/,
  );
  const b = edited(
    t,
    'openioc/terms.yaml',
    'path: "file:hashes.MD5", kind: hash',
    'path: "file:hashes.MD5", kind: md5',
  );
  failsAt(
    () => loadOpenIocTerms(b.dir),
    'openioc/terms.yaml',
    'terms.FileItem/Md5sum.kind',
    b.line,
    /one of string, int, hash/,
  );
});

test('STIX 1.x vocabulary table: loads; a confidence that is not a number fails at its entry', (t) => {
  const tables = loadStix1Tables(MAPPINGS_DIR);
  assert.equal(tables.confidence.High, 85);
  assert.equal(tables.indicator_types['IP Watchlist'], 'ip-watchlist');
  const a = edited(t, 'stix1/vocab.yaml', '  High: 85', '  High: high');
  failsAt(() => loadStix1Tables(a.dir), 'stix1/vocab.yaml', 'confidence.High', a.line, /integer|number/);
});

test('CSV column maps: every shipped map loads; an unknown key fails at its line', (t) => {
  const names = readdirSync(join(MAPPINGS_DIR, 'csv'))
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => f.slice(0, -5));
  assert.ok(names.length >= 6);
  for (const name of names)
    assert.ok(
      must(
        loadColumnMap({ mapping: name } as never, MAPPINGS_DIR, 't'),
        "loadColumnMap({ mapping: name } as never, MAPPINGS_DIR, 't')",
      ).columns.value !== undefined,
      name,
    );
  const a = edited(t, 'csv/feodotracker.yaml', '  first_seen: first_seen_utc', '  first_sen: first_seen_utc');
  failsAt(
    () => loadColumnMap({ mapping: 'feodotracker' } as never, a.dir, 't'),
    'csv/feodotracker.yaml',
    'columns.first_sen',
    a.line,
    /did you mean "first_seen"/,
  );
});

test("sink mapping tables: each sink's table loads with its sections; an unknown attribute or section fails at its line", (t) => {
  const sinks = registry.filter((d): d is SinkDefinition => d.kind === 'sink');
  assert.ok(sinks.length >= 5);
  for (const def of sinks) {
    const m = loadSinkMapping(join(MAPPINGS_DIR, 'sinks', `${def.type}.yaml`), def.mappingSections);
    assert.ok(Object.keys(m.fields).length > 0, def.type);
  }
  const kv = must(
    sinks.find((d) => d.type === 'splunk_kv'),
    "sinks.find((d) => d.type === 'splunk_kv')",
  );
  const a = edited(t, 'sinks/splunk_kv.yaml', '  score: score', '  score: scor');
  failsAt(
    () => loadSinkMapping(join(a.dir, 'sinks/splunk_kv.yaml'), kv.mappingSections),
    'sinks/splunk_kv.yaml',
    'fields.score',
    a.line,
    /unknown attribute "scor"/,
  );
  const b = edited(t, 'sinks/splunk_kv.yaml', '\ntypes:', '\ntypse:');
  failsAt(
    () => loadSinkMapping(join(b.dir, 'sinks/splunk_kv.yaml'), kv.mappingSections),
    'sinks/splunk_kv.yaml',
    'typse',
    b.line + 1,
    /unknown key \(did you mean "types"\?\)/,
  );
});

test('the hardened loader refuses duplicate keys, tags and deep nesting in a table, with the line', (t) => {
  const a = edited(
    t,
    'otx/indicator-types.yaml',
    '  IPv6: { observable: ipv6-addr }',
    '  IPv4: { observable: ipv6-addr }',
  );
  assert.throws(
    () => loadOtxTypes(a.dir),
    /otx\/indicator-types\.yaml is invalid:\n {2}- line \d+, column \d+: Map keys must be unique/,
  );
  const b = edited(t, 'otx/indicator-types.yaml', '{ observable: ipv4-addr }', '!!js/function "x"');
  assert.throws(
    () => loadOtxTypes(b.dir),
    /otx\/indicator-types\.yaml is invalid:\n {2}- line \d+, column \d+: .*tags are not supported|explicit tag/,
  );
  const c = edited(t, 'otx/indicator-types.yaml', '{ observable: ipv4-addr }', '['.repeat(40) + ']'.repeat(40));
  assert.throws(() => loadOtxTypes(c.dir), /nesting deeper than 32 levels/);
});

test('sink routing sections are checked by schema when the sink loads its table: each mistake fails at its line', async (t) => {
  const { QRADAR_MAPPING_SECTIONS } = await import('../../integrations/qradar/sink.js');
  const { SPLUNK_MAPPING_SECTIONS, splunkTableIssues } = await import('../../integrations/splunk/mapping.js');
  const { XSOAR_MAPPING_SECTIONS, xsoarTableIssues } = await import('../../integrations/xsoar/mapping.js');
  const cases: {
    file: string;
    from: string;
    to: string;
    path: string;
    why: RegExp;
    load: (f: string) => unknown;
    lineOffset?: number;
  }[] = [
    {
      file: 'sinks/qradar.yaml',
      from: '{ name: IPv4, element_type: IP }',
      to: '{ name: IPv4, element_type: IPV4 }',
      path: 'sets.ipv4-addr.element_type',
      why: /ALN, ALNIC, IP/,
      load: (f) => loadSinkMapping(f, QRADAR_MAPPING_SECTIONS),
    },
    {
      file: 'sinks/qradar.yaml',
      from: '  ipv4-addr:   {',
      to: '  ipv4-adr:    {',
      path: 'sets.ipv4-adr',
      why: /unknown key/,
      load: (f) => loadSinkMapping(f, QRADAR_MAPPING_SECTIONS),
    },
    {
      file: 'sinks/splunk_es.yaml',
      from: 'collection: ip_intel',
      to: 'collection: ip_intell',
      path: 'routes.ipv4-addr.collection',
      why: /ip_intel/,
      load: (f) => loadSinkMapping(f, SPLUNK_MAPPING_SECTIONS.splunk_es, splunkTableIssues),
    },
    {
      file: 'sinks/splunk_kv.yaml',
      from: '  score: number',
      to: '  scor: number',
      path: 'types.scor',
      why: /"scor" is not a field of the table/,
      load: (f) => loadSinkMapping(f, SPLUNK_MAPPING_SECTIONS.splunk_kv, splunkTableIssues),
    },
    {
      file: 'sinks/splunk_kv.yaml',
      from: 'indicator: { indicator: 1 }',
      to: 'indicator: { indicator: 0 }',
      path: 'accelerated_fields.indicator.indicator',
      why: /must be 1 or -1/,
      load: (f) => loadSinkMapping(f, SPLUNK_MAPPING_SECTIONS.splunk_kv, splunkTableIssues),
    },
    {
      file: 'sinks/splunk_hec.yaml',
      from: '  - indicator_type',
      to: '  - indicator_typo',
      path: 'indexed_fields[1]',
      why: /"indicator_typo" is not a field of the table/,
      load: (f) => loadSinkMapping(f, SPLUNK_MAPPING_SECTIONS.splunk_hec, splunkTableIssues),
    },
    {
      file: 'sinks/xsoar.yaml',
      from: 'upper_case: [trafficlightprotocol]',
      to: 'upper_case: [trafficlight]',
      path: 'upper_case[0]',
      why: /"trafficlight" is not a field of the table/,
      load: (f) => loadSinkMapping(f, XSOAR_MAPPING_SECTIONS, xsoarTableIssues),
    },
  ];
  for (const c of cases) {
    const e = edited(t, c.file, c.from, c.to);
    failsAt(() => c.load(join(e.dir, c.file)), c.file, c.path, e.line, c.why);
  }
});
