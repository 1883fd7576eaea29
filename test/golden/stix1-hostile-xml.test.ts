/**
 * FAULTS F8-F11: hostile XML through src/core/safe-xml.ts and the full stix1/openioc sources.
 * Each case measures heap/RSS growth with process.memoryUsage() and prints it as a diagnostic.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { parseXmlString, SafeXmlParser } from '../../src/core/safe-xml.js';
import { StixgateError } from '../../src/core/errors.js';
import { collectXmlSource } from '../helpers/xml-source.js';
import { PROJECT_ROOT } from '../helpers/corpus.js';
import { must } from '../helpers/must.js';

const FIX = join(PROJECT_ROOT, 'test', 'fixtures', 'xml');

function memory<T>(fn: () => T): { value: T; heapDeltaMb: number; rssDeltaMb: number; ms: number } {
  const before = process.memoryUsage();
  const t0 = performance.now();
  const value = fn();
  const ms = performance.now() - t0;
  const after = process.memoryUsage();
  return {
    value,
    heapDeltaMb: (after.heapUsed - before.heapUsed) / 2 ** 20,
    rssDeltaMb: (after.rss - before.rss) / 2 ** 20,
    ms,
  };
}

function rejects(fn: () => unknown): StixgateError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof StixgateError, `expected a StixgateError, got ${String(e)}`);
    return e;
  }
  assert.fail('expected an error');
}

test('F8 billion laughs: rejected at its DOCTYPE, before any expansion', (t) => {
  const xml = readFileSync(join(FIX, 'billion-laughs.xml'));
  const m = memory(() => rejects(() => parseXmlString(xml, { name: 'lol', file: 'billion-laughs.xml' })));
  t.diagnostic(`F8: ${m.ms.toFixed(2)} ms, heap ${m.heapDeltaMb.toFixed(2)} MiB, rss ${m.rssDeltaMb.toFixed(2)} MiB`);
  assert.equal(m.value.code, 'STIXGATE_ERR_INPUT_PARSE');
  assert.equal(m.value.reason, 'xml_doctype');
  assert.deepEqual(m.value.location, { source: 'lol', file: 'billion-laughs.xml', line: 2, column: 1 });
  assert.match(m.value.message, /<!DOCTYPE declarations are not allowed/);
  assert.ok(m.heapDeltaMb < 16, `heap grew ${m.heapDeltaMb} MiB`);
});

test('F8 entity references without a DTD are not expanded (strict entities)', () => {
  const e = rejects(() => parseXmlString(readFileSync(join(FIX, 'entity-without-doctype.xml')), { name: 'ent' }));
  assert.equal(e.reason, 'xml_syntax');
  assert.match(e.message, /Invalid character entity/);
  assert.equal(e.location?.line, 2);
});

test('F9 XXE: SYSTEM file and http entities never resolved; 0 connections to a canary listener', async (t) => {
  let connections = 0;
  let requests = 0;
  const server = createServer((_req, res) => {
    requests++;
    res.end('canary');
  });
  server.on('connection', () => connections++);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  t.after(() => server.close());
  const dir = mkdtempSync(join(tmpdir(), 'stixgate-xxe-'));
  const docs = {
    http: `<?xml version="1.0"?>\n<!DOCTYPE x [ <!ENTITY xxe SYSTEM "http://127.0.0.1:${port}/canary"> ]>\n<stix:STIX_Package xmlns:stix="http://stix.mitre.org/stix-1" id="example:Package-1"><stix:STIX_Header><stix:Title>&xxe;</stix:Title></stix:STIX_Header></stix:STIX_Package>`,
    param: `<?xml version="1.0"?>\n<!DOCTYPE x [ <!ENTITY % p SYSTEM "http://127.0.0.1:${port}/dtd"> %p; ]>\n<ioc xmlns="http://schemas.mandiant.com/2010/ioc" id="x"/>`,
    external: `<!DOCTYPE ioc SYSTEM "http://127.0.0.1:${port}/ioc.dtd">\n<ioc xmlns="http://schemas.mandiant.com/2010/ioc" id="x"/>`,
    metadata: `<?xml version="1.0"?><!DOCTYPE x [<!ENTITY m SYSTEM "http://169.254.169.254/latest/meta-data/">]><ioc>&m;</ioc>`,
  };
  for (const [name, xml] of Object.entries(docs)) {
    writeFileSync(join(dir, `${name}.ioc`), xml);
    const e = rejects(() => parseXmlString(xml, { name }));
    assert.equal(e.reason, 'xml_doctype', name);
  }
  // The file:// entity: the document is rejected and the file's content appears nowhere.
  const fileXxe = join(FIX, 'xxe-file.xml');
  const r = await collectXmlSource('stix1', fileXxe).catch((e: unknown) => e);
  assert.ok(r instanceof StixgateError);
  assert.equal(r.reason, 'xml_doctype');
  assert.doesNotMatch(r.message, /root:/);
  // Through the full source on a directory: each file is one rejection, nothing is emitted.
  const all = await collectXmlSource('openioc', `${dir}/`);
  assert.equal(all.objects.length, 0);
  assert.deepEqual(
    all.rejections.map((x) => x.reason),
    ['xml_doctype', 'xml_doctype', 'xml_doctype', 'xml_doctype'],
  );
  // a barrier instead of a pause: the listener accepts in arrival order, so any connection opened
  // by the parsing above is counted before this probe's request is answered
  assert.equal(await (await fetch(`http://127.0.0.1:${port}/probe`)).text(), 'canary');
  assert.equal(connections, 1, 'no outbound connection may reach the canary (the one counted is the probe)');
  assert.equal(requests, 1);
});

test('F9 a body that is a bare URL is a parse error, not a fetch', () => {
  const e = rejects(() => parseXmlString('http://169.254.169.254/latest/meta-data/', { name: 'url' }));
  assert.equal(e.code, 'STIXGATE_ERR_INPUT_PARSE');
  assert.equal(e.reason, 'xml_syntax');
  assert.match(e.message, /Non-whitespace before first tag/);
});

test('F10 __proto__/constructor/prototype elements and attributes dropped; Object.prototype unchanged after the full map', async (t) => {
  const protoNames = Object.getOwnPropertyNames(Object.prototype).sort();
  const parsed = parseXmlString(readFileSync(join(FIX, 'proto-keys.xml')), { name: 'proto' });
  // root: 2 attributes; <__proto__>, <constructor> (subtrees dropped whole); Indicator @prototype;
  // <stix:__proto__>; Properties @__proto__; <AddressObj:constructor>
  assert.equal(parsed.stats.droppedKeys, 8);
  const names: string[] = [];
  const walk = (e: typeof parsed.root): void => {
    names.push(e.local, ...Object.keys(e.attrs));
    // nothing inherited: Object.prototype is not on the attribute map's prototype chain
    assert.equal(Object.prototype.isPrototypeOf.call(Object.prototype, e.attrs), false);
    assert.equal((e.attrs as Record<string, unknown>).constructor, undefined);
    assert.equal('toString' in e.attrs, false);
    e.children.forEach(walk);
  };
  walk(parsed.root);
  for (const bad of ['__proto__', 'constructor', 'prototype', 'stix:__proto__', 'AddressObj:constructor'])
    assert.ok(!names.includes(bad), bad);
  const m = await collectXmlSource('stix1', join(FIX, 'proto-keys.xml'));
  t.diagnostic(`F10: ${m.objects.length} objects`);
  assert.deepEqual(
    m.objects.map((o) => [o.type, o.pattern]),
    [['indicator', "[ipv4-addr:value = '198.51.100.7']"]],
  );
  assert.deepEqual(Object.getOwnPropertyNames(Object.prototype).sort(), protoNames);
  const probe = {} as Record<string, unknown>;
  assert.equal(probe.polluted, undefined);
  assert.equal(probe.isAdmin, undefined);
  assert.equal(JSON.stringify(m.objects).includes('polluted'), false);
  // OpenIOC: the same names inside an indicator tree.
  const ioc = `<ioc xmlns="http://schemas.mandiant.com/2010/ioc" id="0b9e1b61-2d6a-4b2a-9a55-3f7b8c1d2e3f" __proto__="x"><short_description>p</short_description><definition><Indicator operator="OR" id="1"><__proto__><polluted>1</polluted></__proto__><IndicatorItem id="2" condition="is" constructor="y"><Context document="FileItem" search="FileItem/Md5sum" type="mir"/><Content type="md5">D41D8CD98F00B204E9800998ECF8427E</Content></IndicatorItem></Indicator></definition></ioc>`;
  const dir = mkdtempSync(join(tmpdir(), 'stixgate-proto-'));
  writeFileSync(join(dir, 'p.ioc'), ioc);
  const o = await collectXmlSource('openioc', join(dir, 'p.ioc'));
  assert.deepEqual(
    o.objects.map((x) => x.pattern),
    ["[file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e']"],
  );
  assert.deepEqual(Object.getOwnPropertyNames(Object.prototype).sort(), protoNames);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
});

test('F11 50,000-deep nesting: clear xml_depth error, no RangeError', (t) => {
  const depth = 50_000;
  const xml = '<a>'.repeat(depth) + '</a>'.repeat(depth);
  const m = memory(() => rejects(() => parseXmlString(xml, { name: 'deep' })));
  t.diagnostic(
    `F11 depth: ${m.ms.toFixed(1)} ms, heap ${m.heapDeltaMb.toFixed(2)} MiB, rss ${m.rssDeltaMb.toFixed(2)} MiB`,
  );
  assert.equal(m.value.code, 'STIXGATE_ERR_INPUT_TOO_LARGE');
  assert.equal(m.value.reason, 'xml_depth');
  assert.match(m.value.message, /XML nesting deeper than 256 elements \(source deep, line 1:772\)/);
});

test('F11 100k attributes on one element: clear xml_attributes error', (t) => {
  const attrs: string[] = [];
  for (let i = 0; i < 100_000; i++) attrs.push(`a${i}="${i}"`);
  const xml = `<root ${attrs.join(' ')}/>`;
  const m = memory(() => rejects(() => parseXmlString(xml, { name: 'attrs' })));
  t.diagnostic(
    `F11 attributes: ${m.ms.toFixed(1)} ms, heap ${m.heapDeltaMb.toFixed(2)} MiB, rss ${m.rssDeltaMb.toFixed(2)} MiB`,
  );
  assert.equal(m.value.code, 'STIXGATE_ERR_INPUT_TOO_LARGE');
  assert.equal(m.value.reason, 'xml_attributes');
  assert.match(m.value.message, /more than 256 attributes/);
  assert.equal(m.value.location?.line, 1);
});

test('F11 10 MB text node: clear xml_text error, streamed in bounded slices', (t) => {
  const text = 'A'.repeat(10 * 1024 * 1024);
  const m = memory(() => {
    const p = new SafeXmlParser({ name: 'text' });
    return rejects(() => {
      p.write('<root><description>');
      for (let i = 0; i < text.length; i += 1 << 20) p.write(Buffer.from(text.slice(i, i + (1 << 20))));
      p.write('</description></root>');
      p.end();
    });
  });
  t.diagnostic(
    `F11 text: ${m.ms.toFixed(1)} ms, heap ${m.heapDeltaMb.toFixed(2)} MiB, rss ${m.rssDeltaMb.toFixed(2)} MiB`,
  );
  assert.equal(m.value.reason, 'xml_text');
  assert.match(m.value.message, /XML text node longer than 1048576 characters/);
  // a long attribute value is capped the same way
  const e = rejects(() => parseXmlString(`<r a="${'x'.repeat(70_000)}"/>`, { name: 'attr', maxTextLength: 65_536 }));
  assert.equal(e.reason, 'xml_text');
  assert.match(e.message, /XML attribute value longer than 65536 characters/);
});

test('document size, element count and encoding caps', () => {
  const big = `<r>${'<x>1</x>'.repeat(2000)}</r>`;
  assert.equal(rejects(() => parseXmlString(big, { name: 's', maxBytes: 4096 })).reason, 'xml_size');
  assert.equal(rejects(() => parseXmlString(big, { name: 's', maxElements: 1000 })).reason, 'xml_elements');
  const bad = Buffer.from([0x3c, 0x72, 0x3e, 0xff, 0xfe, 0x3c, 0x2f, 0x72, 0x3e]);
  assert.equal(rejects(() => parseXmlString(bad, { name: 'enc' })).code, 'STIXGATE_ERR_INPUT_ENCODING');
  assert.equal(rejects(() => parseXmlString('', { name: 'empty' })).code, 'STIXGATE_ERR_INPUT_EMPTY');
});

test('DOCTYPE text inside CDATA is data (HTML descriptions) but a DOCTYPE after the root is rejected', () => {
  const ok = parseXmlString('<r><d><![CDATA[<!DOCTYPE html><html>&amp;</html>]]></d></r>', { name: 'cdata' });
  assert.equal(must(ok.root.children[0], 'ok.root.children[0]').text, '<!DOCTYPE html><html>&amp;</html>');
  const late = rejects(() => parseXmlString('<r><!DOCTYPE x [<!ENTITY a "b">]></r>', { name: 'late' }));
  assert.equal(late.reason, 'xml_syntax');
  assert.match(late.message, /Inappropriately located doctype declaration/);
  const decl = rejects(() => parseXmlString('<r><!ENTITY a></r>', { name: 'decl' }));
  assert.equal(decl.reason, 'xml_doctype');
  // sax never leaves a quoted SGML declaration: the document ends as a parse error, nothing is declared
  assert.equal(rejects(() => parseXmlString('<r><!ENTITY a "b"></r>', { name: 'decl' })).reason, 'xml_syntax');
  // a DOCTYPE split across two chunks is still caught before parsing
  const p = new SafeXmlParser({ name: 'split' });
  p.write('<?xml version="1.0"?>\n<!DOC');
  assert.equal(rejects(() => p.write('TYPE r [<!ENTITY a "b">]><r/>')).reason, 'xml_doctype');
});
