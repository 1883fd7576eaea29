/**
 * The `openioc` source: conditions, negation and unmapped terms on a fixture of our own; every
 * OpenIOC file of the corpus parses and maps (mapped/preserved term counts per file printed);
 * the openioc-to-stix pairs: every value of the reference STIX 1.2 observables (MITRE's converter)
 * must appear in our STIX 2.1 pattern.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { corpusPath, PROJECT_ROOT } from '../helpers/corpus.js';
import { parseXmlString, type XmlElement } from '../../src/core/safe-xml.js';
import { parsePattern } from '../../src/core/pattern.js';
import { collectXmlSource } from '../helpers/xml-source.js';
import { loadOpenIocTerms, mapOpenIoc } from '../../integrations/openioc/map.js';
import { objectFacts } from '../../integrations/stix1/cybox.js';
import { must } from '../helpers/must.js';

const FIXTURE = join(PROJECT_ROOT, 'test', 'fixtures', 'xml', 'openioc-1.1-conditions.ioc');
const CORPUS = corpusPath('openioc');
const terms = loadOpenIocTerms(join(PROJECT_ROOT, 'mappings'));

function mapFile(file: string): ReturnType<typeof mapOpenIoc> {
  const { root } = parseXmlString(readFileSync(file), { name: file, file });
  return mapOpenIoc(root, { sourceId: 'corpus', file, fallbackTime: '2026-03-01T12:00:00.000Z', terms });
}

test('OpenIOC 1.1: every condition, negation, AND/OR grouping by object type, unmapped terms kept', async () => {
  const r = await collectXmlSource('openioc', FIXTURE);
  assert.deepEqual(r.rejections, []);
  const ind = must(
    r.objects.find((o) => o.type === 'indicator'),
    "r.objects.find((o) => o.type === 'indicator')",
  );
  assert.equal(ind.id, 'indicator--5a1f0c2e-7b3d-4e8f-9a6b-0c1d2e3f4a5b');
  assert.equal(ind.name, 'Conditions');
  assert.equal(ind.created, '2024-05-06T07:08:09.000Z');
  assert.equal(ind.valid_from, '2024-05-01T00:00:00.000Z');
  assert.equal(
    ind.pattern,
    // the OR node's FileItem terms and its FileItem-only AND sub-tree are one file observation
    "[file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e' OR file:hashes.'SHA-256' = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'" +
      " OR (file:name MATCHES 'evil\\\\.exe' AND file:parent_directory_ref.path NOT MATCHES '^C:\\\\\\\\Windows' AND file:size > 1000)]" +
      " OR [url:value MATCHES '^/gate\\\\.php\\\\?id=[0-9]+$']" +
      " OR [windows-registry-key:key = 'Software\\\\Microsoft\\\\Windows\\\\CurrentVersion\\\\Run']" +
      " OR [process:extensions.'windows-service-ext'.service_name = 'evilsvc']" +
      " OR [email-message:from_ref.value = 'Bad@Evil.Example']" +
      " OR ([domain-name:value MATCHES '\\\\.evil\\\\.example$'] AND [network-traffic:dst_ref.value = '198.51.100.23' AND network-traffic:dst_port = 443])",
  );
  parsePattern(String(ind.pattern));
  assert.deepEqual(ind.x_openioc_unmapped, [
    {
      search: 'ProcessItem/HandleList/Handle/Name',
      condition: 'is',
      content: '\\BaseNamedObjects\\evil',
      reason: 'no_stix_path',
    },
  ]);
  assert.deepEqual(
    r.objects.map((o) => o.type),
    ['identity', 'indicator'],
  );
  assert.equal(ind.created_by_ref, must(r.objects[0], 'r.objects[0]').id);
});

test('OpenIOC 1.0: isnot/containsnot, extensions and full paths; an IOC with no mappable term keeps its tree as an openioc pattern', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'stixgate-ioc10-'));
  const item = (cond: string, search: string, content: string): string =>
    `<IndicatorItem id="x" condition="${cond}"><Context document="FileItem" search="${search}" type="mir"/><Content type="string">${content}</Content></IndicatorItem>`;
  writeFileSync(
    join(dir, 'a.ioc'),
    `<ioc xmlns="http://schemas.mandiant.com/2010/ioc" id="2f3e4d5c-6b7a-4980-8a1b-2c3d4e5f6a7b" last-modified="2013-01-02T03:04:05"><short_description>v1.0</short_description><authored_date>0001-01-01T00:00:00</authored_date><definition><Indicator operator="AND" id="t">` +
      item('isnot', 'FileItem/FileName', 'ok.exe') +
      item('containsnot', 'FileItem/FilePath', 'Program Files') +
      item('is', 'FileItem/FileExtension', 'scr') +
      item('is', 'FileItem/FullPath', 'C:\\Temp\\x.dll') +
      `</Indicator></definition></ioc>`,
  );
  writeFileSync(
    join(dir, 'b.ioc'),
    `<ioc xmlns="http://schemas.mandiant.com/2010/ioc" id="3a4b5c6d-7e8f-4a0b-9c1d-2e3f4a5b6c7d"><short_description>unmappable</short_description><definition><Indicator operator="OR" id="t">` +
      `<IndicatorItem id="y" condition="contains"><Context document="Yara" search="Yara/TextString" type="yara"/><Content type="string">MZ &amp; co</Content></IndicatorItem></Indicator></definition></ioc>`,
  );
  const r = await collectXmlSource('openioc', `${dir}/`);
  assert.equal(r.pages, 2);
  const [a, b] = r.objects;
  assert.equal(
    must(a, 'a').pattern,
    "[file:name NOT = 'ok.exe' AND file:parent_directory_ref.path NOT MATCHES 'Program Files' AND file:name MATCHES '\\\\.scr$' AND (file:name = 'x.dll' AND file:parent_directory_ref.path = 'C:\\\\Temp')]",
  );
  assert.equal(must(a, 'a').created, '2013-01-02T03:04:05.000Z');
  assert.equal(must(a, 'a').valid_from, '2013-01-02T03:04:05.000Z');
  assert.equal(must(b, 'b').pattern_type, 'openioc');
  assert.equal(
    must(b, 'b').pattern,
    '<criteria><Indicator operator="OR" id="t"><IndicatorItem id="y" condition="contains"><Context document="Yara" search="Yara/TextString" type="yara"/><Content type="string">MZ &amp; co</Content></IndicatorItem></Indicator></criteria>'
      .replace('<criteria>', '<definition>')
      .replace('</criteria>', '</definition>'),
  );
  assert.deepEqual(must(b, 'b').x_openioc_unmapped, [
    { search: 'Yara/TextString', condition: 'contains', content: 'MZ & co', reason: 'no_stix_path' },
  ]);
});

function iocFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const n of readdirSync(d).sort()) {
      const p = join(d, n);
      if (statSync(p).isDirectory()) {
        if (n !== 'schemas' && n !== 'LICENSES') walk(p);
      } else if (n.endsWith('.ioc') || n.endsWith('.ioc.xml')) out.push(p);
    }
  };
  walk(dir);
  return out;
}

test('OpenIOC corpus: every file parses and maps; mapped and preserved terms counted per file', {
  skip: CORPUS.skip,
}, (t) => {
  const files = iocFiles(CORPUS.path);
  let items = 0;
  let mapped = 0;
  let preserved = 0;
  const kinds = { stix: 0, openioc: 0 };
  t.diagnostic(`${'file'.padEnd(78)}items mapped preserved pattern_type`);
  for (const f of files) {
    const r = mapFile(f);
    assert.deepEqual(r.rejections, [], f);
    const ind = r.objects.find((o) => o.type === 'indicator');
    assert.ok(ind, f);
    assert.equal(r.stats.items, r.stats.mapped + r.stats.unmapped, f);
    assert.equal(
      ((ind.x_openioc_unmapped as unknown[] | undefined) ?? []).length,
      r.stats.unmapped,
      `${f}: every unmapped term is preserved`,
    );
    if (ind.pattern_type === 'stix') parsePattern(String(ind.pattern));
    kinds[ind.pattern_type as 'stix' | 'openioc']++;
    items += r.stats.items;
    mapped += r.stats.mapped;
    preserved += r.stats.unmapped;
    t.diagnostic(
      `${relative(CORPUS.path, f).padEnd(78)}${String(r.stats.items).padStart(5)} ${String(r.stats.mapped).padStart(6)} ${String(r.stats.unmapped).padStart(9)} ${ind.pattern_type}`,
    );
  }
  t.diagnostic(`total: ${files.length} files, ${items} items, ${mapped} mapped, ${preserved} preserved`);
  assert.equal(files.length, 51);
  assert.deepEqual(kinds, { stix: 30, openioc: 21 });
  assert.equal(items, 726);
  assert.equal(mapped, 573);
  assert.equal(preserved, 153);
});

test('openioc-to-stix pairs: our patterns cover the values of the reference STIX 1.2 observables', {
  skip: CORPUS.skip,
}, (t) => {
  const dir = join(CORPUS.path, 'openioc-to-stix');
  const result: Record<string, string> = {};
  const missing: string[] = [];
  for (const f of readdirSync(dir)
    .filter((n) => n.endsWith('.stix.xml'))
    .sort()) {
    const stem = f.slice(0, -'.stix.xml'.length);
    const r = mapFile(join(dir, `${stem}.ioc.xml`));
    const pattern = String(r.objects.find((o) => o.type === 'indicator')?.pattern ?? '')
      .replace(/\\/g, '')
      .toLowerCase();
    const { root } = parseXmlString(readFileSync(join(dir, f)), { name: f });
    const props: XmlElement[] = [];
    const walk = (e: XmlElement): void => {
      if (e.local === 'Properties') props.push(e);
      e.children.forEach(walk);
    };
    walk(root);
    let total = 0;
    let covered = 0;
    for (const p of props) {
      const of = objectFacts(p);
      if (!of) continue;
      for (const fact of of.facts) {
        // a full path compared with contains/starts/ends is one fact; STIX holds its directory and name apart
        const values =
          fact.kind === 'path'
            ? fact.values.flatMap((v) => [
                v.slice(0, Math.max(v.lastIndexOf('\\'), v.lastIndexOf('/'))),
                v.slice(Math.max(v.lastIndexOf('\\'), v.lastIndexOf('/')) + 1),
              ])
            : fact.values;
        for (const v of values) {
          total++;
          if (pattern.includes(v.replace(/\\/g, '').toLowerCase())) covered++;
          else missing.push(`${stem}: ${of.type}:${fact.steps.join('.')} = ${v}`);
        }
      }
    }
    result[stem] = `${covered}/${total}`;
    t.diagnostic(`${stem}: ${covered}/${total} reference values covered (${props.length} reference objects)`);
  }
  assert.deepEqual(result, {
    ccapp: '6/6',
    duqu: '8/8',
    find_windows: '6/6',
    msbgt: '9/9',
    shelldc_backdoor: '18/18',
    stuxnet: '10/10',
    zeus: '1/1',
  });
  assert.deepEqual(missing, []);
});
