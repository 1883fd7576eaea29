import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { textListSource } from '../../integrations/text_list/index.js';
import { csvSource } from '../../integrations/csv/index.js';
import { cisaKevSource } from '../../integrations/cisa_kev/index.js';
import { corpusPath } from '../helpers/corpus.js';
import { assertPresence, compareGolden, distinctFirstTokens, patternValues, runFiles } from './golden-case.js';
import { must } from '../helpers/must.js';

/**
 * Golden cases over the real feed captures in the corpus. Each case checks the stable summary
 * (test/golden/expected/<case>.json) and, independently of the snapshot, counts taken by a
 * separate simple pass over the raw file plus values that must and must not be there.
 */

interface ListCase {
  name: string;
  file: string;
  own?: Record<string, unknown>;
  present: string[];
  absent: string[];
}

const LISTS: ListCase[] = [
  {
    name: 'ipsum',
    file: 'ipsum/ipsum.txt',
    own: { count_field: 1, count_confidence: { '1': 10, '3': 50, '6': 80 } },
    present: ['77.90.185.20', '77.239.124.102', '77.239.124.108'],
    absent: ['8.8.8.8', '10'],
  },
  {
    name: 'spamhaus-drop-legacy',
    file: 'spamhaus-drop/drop.legacy.txt',
    present: ['1.10.16.0/20', '1.19.0.0/16', '2.56.192.0/22'],
    absent: ['SBL256894', '1.10.16.0'],
  },
  {
    name: 'et-compromised-ips',
    file: 'ip-lists-et-tor/et-compromised-ips.txt',
    own: { value_type: 'ipv4-addr' },
    present: ['101.100.216.61', '101.50.83.146', '102.220.160.38'],
    absent: ['1.1.1.1', '127.0.0.1'],
  },
  {
    name: 'tor-exit-criticalpath',
    file: 'ip-lists-et-tor/tor-exit.criticalpath.txt',
    present: ['171.25.193.25', '80.67.167.81', '109.70.100.4'],
    absent: ['8.8.4.4', '9.9.9.9'],
  },
  {
    name: 'tor-exit-secops',
    file: 'ip-lists-et-tor/tor-exit-nodes.secops.lst',
    present: ['101.99.92.179', '101.99.92.182', '102.130.113.9'],
    absent: ['8.8.4.4', '9.9.9.9'],
  },
];

for (const c of LISTS) {
  const p = corpusPath(c.file);
  test(`golden text_list: ${c.name}`, { skip: p.skip }, async () => {
    const { collected, result } = await runFiles(textListSource, [p.path], { ...c.own });
    compareGolden(`text_list-${c.name}`, result);
    const tokens = distinctFirstTokens(p.path);
    assert.equal(result.rejected, 0);
    assert.equal(result.uniqueIndicators, tokens.size, 'one indicator per distinct value');
    assert.equal(collected.cursors.length, 1, 'exactly one page carries the cursor');
    assert.equal(
      must(collected.cursors[0], 'collected.cursors[0]').page,
      collected.pages - 1,
      'the cursor rides on the last page',
    );
    assertPresence(patternValues(collected), c.present, c.absent);
  });
}

test('golden text_list: ipsum count column becomes confidence', {
  skip: corpusPath('ipsum/ipsum.txt').skip,
}, async () => {
  const file = corpusPath('ipsum/ipsum.txt').path;
  const { collected } = await runFiles(textListSource, [file], {
    count_field: 1,
    min_count: 3,
    count_confidence: { '3': 50, '6': 80 },
  });
  let expected = 0;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line || line.startsWith('#')) continue;
    if (Number(line.split('\t')[1]) >= 3) expected++;
  }
  assert.equal(collected.items.length, expected);
  const top = collected.items.find((i) => i.object.name === '77.90.185.20');
  assert.equal(top?.confidence, 80);
  assert.ok(collected.items.every((i) => i.confidence === 50 || i.confidence === 80));
});

interface CsvCase {
  name: string;
  file: string;
  mapping: string;
  independentCount: (text: string) => number;
  present: string[];
  absent: string[];
}

const quotedRows = (text: string) =>
  text.split('\n').filter((l) => l.startsWith('"') && !l.startsWith('"first_seen_utc"')).length;
const plainRows = (text: string) => text.split('\n').filter((l) => l.trim() && !l.startsWith('#')).length;

const CSVS: CsvCase[] = [
  {
    name: 'feodotracker',
    file: 'abusech/feodotracker/ipblocklist.csv',
    mapping: 'feodotracker',
    independentCount: quotedRows,
    present: ['192.9.135.73', '85.239.243.155', '172.233.221.61'],
    absent: ['dst_ip', '1194'],
  },
  {
    name: 'feodotracker-prev1',
    file: 'abusech/feodotracker/ipblocklist.prev1.csv',
    mapping: 'feodotracker',
    independentCount: quotedRows,
    present: ['192.9.135.73', '85.239.243.155', '84.247.157.112'],
    absent: ['172.233.221.61', 'dst_ip'],
  },
  {
    name: 'feodotracker-prev2',
    file: 'abusech/feodotracker/ipblocklist.prev2.csv',
    mapping: 'feodotracker',
    independentCount: quotedRows,
    present: ['192.9.135.73', '85.239.243.155', '84.247.157.112'],
    absent: ['172.233.221.61', 'dst_ip'],
  },
  {
    name: 'sslbl-ip',
    file: 'abusech/sslbl/sslipblacklist.csv',
    mapping: 'sslbl_ip',
    independentCount: plainRows,
    present: ['104.130.17.100', '109.120.155.159', '109.120.155.254'],
    absent: ['DstIP', '443'],
  },
  {
    name: 'spamhaus-drop-json',
    file: 'spamhaus-drop/drop_v4.json',
    mapping: 'spamhaus_drop_json',
    independentCount: (t) => t.split('\n').filter((l) => l.includes('"cidr"')).length,
    present: ['1.10.16.0/20', '1.19.0.0/16', '223.254.0.0/16'],
    absent: ['metadata', 'SBL256894'],
  },
];

for (const c of CSVS) {
  const p = corpusPath(c.file);
  test(`golden csv: ${c.name}`, { skip: p.skip }, async () => {
    const { collected, result } = await runFiles(csvSource, [p.path], { mapping: c.mapping });
    compareGolden(`csv-${c.name}`, result);
    const rows = c.independentCount(readFileSync(p.path, 'utf8'));
    assert.equal(result.received, rows, 'every data row read once (metadata and header not counted)');
    assert.equal(result.objects, rows);
    assert.equal(result.rejected, 0);
    assertPresence(patternValues(collected), c.present, c.absent);
  });
}

test('golden csv: feodotracker columns land where the map says', {
  skip: corpusPath('abusech/feodotracker/ipblocklist.csv').skip,
}, async () => {
  const { collected } = await runFiles(csvSource, [corpusPath('abusech/feodotracker/ipblocklist.csv').path], {
    mapping: 'feodotracker',
  });
  const item = must(
    collected.items.find((i) => i.object.name === '192.9.135.73'),
    'the item of 192.9.135.73',
  );
  const o = item.object;
  assert.equal(o.valid_from, '2023-05-23T17:51:44.000Z');
  assert.equal(o.description, 'port 1194');
  assert.deepEqual(o.labels, ['c2_status:online', 'malware:Pikabot']);
  assert.equal(item.seenAt, '2024-04-01T00:00:00.000Z');
});

const kev = corpusPath('cisa-kev/known_exploited_vulnerabilities.json');
test('golden cisa_kev', { skip: kev.skip }, async () => {
  const { collected, result } = await runFiles(cisaKevSource, [kev.path], {});
  compareGolden('cisa_kev', result);
  const raw = JSON.parse(readFileSync(kev.path, 'utf8')) as { count: number; vulnerabilities: { cveID: string }[] };
  assert.equal(result.received, raw.vulnerabilities.length);
  assert.equal(result.countsByType.vulnerability, raw.count);
  assert.equal(result.uniqueIds, new Set(raw.vulnerabilities.map((v) => v.cveID)).size);
  const names = new Set(collected.items.map((i) => String(i.object.name)));
  assertPresence(names, ['CVE-2025-48384', 'CVE-2024-8068', 'CVE-2024-8069'], ['CVE-1999-0001', 'CVE-2099-99999']);
  const git = must(
    collected.items.find((i) => i.object.name === 'CVE-2025-48384'),
    "collected.items.find((i) => i.object.name === 'CVE-2025-4...",
  ).object;
  assert.equal(git.created, '2025-08-25T00:00:00.000Z');
  assert.deepEqual(git.external_references?.[0], { source_name: 'cve', external_id: 'CVE-2025-48384' });
  assert.deepEqual((git.x_cisa_kev as { cwes: string[] }).cwes, ['CWE-59', 'CWE-436']);
  for (const it of collected.items) for (const k of Object.keys(it.object)) assert.match(k, /^[a-z0-9_]{3,250}$|^id$/);
});

test('config/examples/public-feeds.yaml validates and every source (and its column map) can be created', async () => {
  const { loadConfig } = await import('../../src/config/load.js');
  const { registry } = await import('../../integrations/index.js');
  const { silentLogger } = await import('../../src/telemetry/logger.js');
  const { join } = await import('node:path');
  const { PROJECT_ROOT } = await import('../helpers/corpus.js');
  const loaded = loadConfig(join(PROJECT_ROOT, 'config/examples/public-feeds.yaml'), registry);
  const sources = (loaded.config as { sources: Record<string, { type: string }> }).sources;
  assert.deepEqual(Object.keys(sources), [
    'spamhaus_drop',
    'et_compromised_ips',
    'tor_exit_nodes',
    'ipsum',
    'feodotracker',
    'sslbl_ips',
    'cisa_kev',
  ]);
  for (const [id, cfg] of Object.entries(sources)) {
    const def = must(
      registry.find((d) => d.type === cfg.type),
      'registry.find((d) => d.type === cfg.type)',
    );
    assert.equal(def.kind, 'source', id);
    if (def.kind !== 'source') continue;
    const src = def.create(cfg as never, {
      logger: silentLogger(),
      configDir: join(PROJECT_ROOT, 'config'),
      mappingsDir: join(PROJECT_ROOT, 'mappings'),
    });
    assert.equal(typeof src.pages, 'function', id);
  }
});
