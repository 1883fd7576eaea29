/**
 * Firewall lists over the real embedded store: what a list holds (its TLP view, filters,
 * warninglists), incremental regeneration counted in operations (store calls, entries applied,
 * bodies rebuilt; no clock), caps with their metric.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { accessPolicy } from '../../src/access/policy.js';
import { validate } from '../../src/core/schema.js';
import { detectObservable } from '../../src/core/observable.js';
import { indicatorFromObservable } from '../../src/core/indicator.js';
import type { TlpLevel } from '../../src/core/stix.js';
import { EdlLists, edlSchema } from '../../src/edl/index.js';
import { PublishFilter } from '../../src/filter/policy.js';
import { WarninglistMatcher, parseWarninglist } from '../../src/filter/warninglists.js';
import { NO_DECAY_SCORING } from '../../src/score/model.js';
import { openEmbeddedStore } from '../../src/store/embedded/index.js';
import type { IngestItem, Store } from '../../src/store/contract.js';
import { EdlMetrics } from '../../src/telemetry/edl-metrics.js';

const T0 = Date.parse('2026-03-01T00:00:00.000Z');
const ACCESS = accessPolicy({ defaultTlp: 'amber', scoring: NO_DECAY_SCORING });
let clock = T0;

function item(
  value: string,
  o: {
    tlp?: TlpLevel;
    confidence?: number;
    source?: string;
    labels?: string[];
    now?: string;
    validUntil?: string;
  } = {},
): IngestItem {
  const d = detectObservable(value);
  assert.ok(d.ok, value);
  const now = o.now ?? '2026-02-01T00:00:00.000Z';
  return {
    object: indicatorFromObservable(d.observable, { now, labels: o.labels, validUntil: o.validUntil }),
    source: o.source ?? 'feed_a',
    tlp: o.tlp ?? 'clear',
    confidence: o.confidence ?? 80,
  };
}

async function rig(t: TestContext, lists: Record<string, unknown>, publish?: PublishFilter) {
  const dir = mkdtempSync(join(tmpdir(), 'stixgate-edl-'));
  const store = await openEmbeddedStore({ dataDir: dir, scoring: NO_DECAY_SCORING });
  t.after(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const cfg = validate(edlSchema, { lists });
  assert.ok(cfg.ok, JSON.stringify(!cfg.ok && cfg.issues));
  const registry = new Registry();
  const metrics = new EdlMetrics(registry);
  const make = () =>
    new EdlLists(store, cfg.value, { access: ACCESS, metrics, now: () => clock, publish: () => publish });
  const put = (items: IngestItem[]) => store.upsert(items, { now: clock });
  const metric = async (name: string, labels: string) => {
    const text = await registry.metrics();
    const m = new RegExp(`^${name}\\{${labels}\\} (\\d+)$`, 'm').exec(text);
    return m ? Number(m[1]) : undefined;
  };
  return { store: store as Store, make, put, metric };
}

const body = (l: EdlLists, list: string, kind: 'ip' | 'domain' | 'url' | 'sha256') => {
  const r = l.get(list, kind);
  assert.ok(!('missing' in r), `${list}/${kind}`);
  return r.snapshot.body.toString('utf8');
};

test('a list is the view at its TLP ceiling through its filters, in its vendor format, one kind per body', async (t) => {
  const { make, put } = await rig(t, {
    pan: { format: 'paloalto', max_tlp: 'green', min_score: 50 },
    fw: { format: 'fortinet', max_tlp: 'amber', kinds: ['url', 'sha256'], labels: ['c2'] },
  });
  await put([
    item('198.51.100.7', { tlp: 'clear' }),
    item('198.51.100.0/28', { tlp: 'green' }),
    item('203.0.113.9', { tlp: 'amber' }),
    item('192.0.2.1', { tlp: 'clear', confidence: 30 }),
    item('evil.example', { tlp: 'green', labels: ['c2'] }),
    item('http://evil.example/gate.php', { tlp: 'amber', labels: ['c2'] }),
    item('https://other.example/x', { tlp: 'clear' }),
    item('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855', { tlp: 'green', labels: ['c2'] }),
  ]);
  const l = make();
  await l.build();
  assert.equal(
    body(l, 'pan', 'ip'),
    '198.51.100.7\n198.51.100.0/28\n',
    'AMBER above the ceiling, score 30 below min_score',
  );
  assert.equal(body(l, 'pan', 'domain'), 'evil.example\n');
  assert.equal(body(l, 'pan', 'url'), 'other.example/x\n', 'no scheme; the AMBER URL is above the ceiling');
  assert.equal(body(l, 'fw', 'url'), 'http://evil.example/gate.php\n', 'label c2 only, AMBER ceiling');
  assert.equal(body(l, 'fw', 'sha256'), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n');
  assert.deepEqual(l.get('fw', 'ip'), { missing: 'kind' }, 'fw serves url and sha256 only');
  assert.deepEqual(l.get('nope', 'ip'), { missing: 'list' });
  assert.deepEqual(l.get('__proto__', 'ip'), { missing: 'list' });
});

test('incremental: after the build, a change costs one store read and one applied entry, and only its kind is rebuilt; no change rebuilds nothing', async (t) => {
  const { make, put, store } = await rig(t, { pan: { format: 'paloalto' } });
  const many: IngestItem[] = [];
  for (let i = 0; i < 2500; i++) many.push(item(`10.${(i >> 8) & 255}.${i & 255}.1`));
  many.push(item('evil.example'));
  await put(many);
  const l = make();
  await l.build();
  assert.equal(l.applied, 2501);
  const ip0 = l.get('pan', 'ip');
  const dom0 = l.get('pan', 'domain');
  assert.ok(!('missing' in ip0) && !('missing' in dom0));
  assert.equal(ip0.snapshot.entries, 2500);
  const reads0 = l.storeReads;
  const applied0 = l.applied;
  assert.equal(l.seq, await store.head(), 'the build leaves the lists at the head of the change log');

  // nothing new: one read, nothing applied, nothing rebuilt, same body object
  await l.tick();
  assert.deepEqual([l.storeReads - reads0, l.applied - applied0], [1, 0]);
  const ipSame = l.get('pan', 'ip');
  assert.ok(!('missing' in ipSame));
  assert.equal(ipSame.snapshot, ip0.snapshot, 'no rebuild');

  await put([item('10.200.0.1')]);
  clock += 5000;
  await l.tick();
  assert.deepEqual([l.storeReads - reads0, l.applied - applied0], [2, 1], 'one read, one change applied');
  const ip1 = l.get('pan', 'ip');
  const dom1 = l.get('pan', 'domain');
  assert.ok(!('missing' in ip1) && !('missing' in dom1));
  assert.equal(ip1.snapshot.entries, 2501);
  assert.ok(ip1.snapshot.body.toString().endsWith('10.200.0.1\n'));
  assert.notEqual(ip1.snapshot.etag, ip0.snapshot.etag);
  assert.equal(ip1.snapshot.lastModified, clock - (clock % 1000));
  assert.equal(dom1.snapshot, dom0.snapshot, 'the domain body was not rebuilt');

  // the same value again from another source: a change, but no line moves, so no new body bytes
  await put([item('10.200.0.1', { source: 'feed_b' })]);
  await l.tick();
  const ip2 = l.get('pan', 'ip');
  assert.ok(!('missing' in ip2));
  assert.equal(ip2.snapshot, ip1.snapshot, 'a score or provenance change under the cap changes no byte');
});

test('revoked and expired indicators leave the list; a value re-marked above the ceiling leaves it too', async (t) => {
  const { make, put, store } = await rig(t, { pan: { format: 'paloalto', max_tlp: 'green', kinds: ['ip'] } });
  const a = item('198.51.100.1');
  await put([
    a,
    item('198.51.100.2', { validUntil: '2026-03-02T00:00:00.000Z' }),
    item('198.51.100.3', { tlp: 'green' }),
  ]);
  const l = make();
  await l.build();
  assert.equal(body(l, 'pan', 'ip'), '198.51.100.1\n198.51.100.2\n198.51.100.3\n');
  await put([{ ...a, object: { ...a.object, modified: '2026-02-02T00:00:00.000Z', revoked: true } }]);
  clock = Date.parse('2026-03-03T00:00:00.000Z');
  assert.equal(await store.expire(clock), 1);
  await put([item('198.51.100.3', { tlp: 'amber', now: '2026-02-03T00:00:00.000Z' })]);
  await l.tick();
  assert.equal(body(l, 'pan', 'ip'), '', 'revoked, expired, and the only contribution is now AMBER');
  clock = T0;
});

test('caps: over max_entries the highest-scored lines are kept, in score order; the truncation is a metric; under the cap again it is complete', async (t) => {
  const { make, put, metric } = await rig(t, { small: { format: 'paloalto', kinds: ['ip'], max_entries: 3 } });
  await put([
    item('192.0.2.1', { confidence: 40 }),
    item('192.0.2.2', { confidence: 90 }),
    item('192.0.2.3', { confidence: 60 }),
    item('192.0.2.4', { confidence: 95 }),
    item('192.0.2.5', { confidence: 60 }),
  ]);
  const l = make();
  await l.build();
  assert.equal(body(l, 'small', 'ip'), '192.0.2.4\n192.0.2.2\n192.0.2.3\n', 'scores 95, 90, then the first 60');
  const r = l.get('small', 'ip');
  assert.ok(!('missing' in r));
  assert.deepEqual([r.snapshot.entries, r.snapshot.truncated], [3, 2]);
  assert.equal(await metric('stixgate_edl_truncated_entries', 'list="small",kind="ip"'), 2);
  assert.equal(await metric('stixgate_edl_truncations_total', 'list="small",kind="ip"'), 1);
  assert.equal(await metric('stixgate_edl_entries', 'list="small",kind="ip"'), 3);
  // over the cap, a score change alone reorders: it rebuilds
  await put([item('192.0.2.1', { confidence: 99, source: 'feed_b' })]);
  await l.tick();
  assert.equal(body(l, 'small', 'ip'), '192.0.2.1\n192.0.2.4\n192.0.2.2\n');
  assert.equal(await metric('stixgate_edl_truncations_total', 'list="small",kind="ip"'), 2);
  // two lines leave: under the cap again, complete (in arrival order), the gauge back to 0
  const gone = (v: string) => {
    const x = item(v);
    return { ...x, object: { ...x.object, modified: '2026-02-02T00:00:00.000Z', revoked: true } };
  };
  await put([gone('192.0.2.4'), gone('192.0.2.5')]);
  await l.tick();
  assert.equal(body(l, 'small', 'ip'), '192.0.2.1\n192.0.2.2\n192.0.2.3\n');
  assert.equal(await metric('stixgate_edl_truncated_entries', 'list="small",kind="ip"'), 0);
  assert.equal(await metric('stixgate_edl_truncations_total', 'list="small",kind="ip"'), 2, 'no new truncation');
});

test('max_bytes cuts at a whole line and counts the rest as truncated', async (t) => {
  const { make, put } = await rig(t, { fw: { format: 'fortinet', kinds: ['domain'], max_bytes: 1024 } });
  const items: IngestItem[] = [];
  for (let i = 0; i < 100; i++) items.push(item(`host${String(i).padStart(3, '0')}.evil.example`));
  await put(items);
  const l = make();
  await l.build();
  const r = l.get('fw', 'domain');
  assert.ok(!('missing' in r));
  const text = r.snapshot.body.toString();
  assert.ok(r.snapshot.body.length <= 1024 && text.endsWith('\n'));
  assert.equal(r.snapshot.entries, Math.floor(1024 / 'host000.evil.example\n'.length));
  assert.equal(r.snapshot.entries + r.snapshot.truncated, 100);
});

test('warninglists: a listed value is withheld (and counted) unless a trusted source delivered it; the allowlist always withholds', async (t) => {
  const wl = parseWarninglist({ name: 'Resolvers', type: 'cidr', list: ['8.8.8.8'] }, 'fixture');
  assert.ok(wl.ok);
  const publish = new PublishFilter({
    warninglists: WarninglistMatcher.compile([wl.list]).matcher,
    allowlist: ['192.0.2.0/24'],
    trustedSources: ['internal'],
  });
  const { make, put, metric } = await rig(
    t,
    { pan: { format: 'paloalto', kinds: ['ip'] }, raw: { format: 'plain', kinds: ['ip'], warninglists: false } },
    publish,
  );
  await put([item('8.8.8.8'), item('198.51.100.1'), item('192.0.2.7', { source: 'internal' })]);
  const l = make();
  await l.build();
  assert.equal(body(l, 'pan', 'ip'), '198.51.100.1\n');
  assert.equal(body(l, 'raw', 'ip'), '8.8.8.8\n198.51.100.1\n192.0.2.7\n', 'warninglists: false');
  assert.equal(await metric('stixgate_edl_values_withheld_total', 'list="pan",kind="ip"'), 2);
  assert.equal(publish.withheld.size, 0, "the sinks' withheld counts are not touched");
  await put([item('8.8.8.8', { source: 'internal' })]);
  await l.tick();
  assert.equal(body(l, 'pan', 'ip'), '198.51.100.1\n8.8.8.8\n', 'a trusted source overrides a warninglist');
  // refreshed warninglists: the lists are built again; until the new ones are ready the old bodies are served
  const wl2 = parseWarninglist({ name: 'Docs', type: 'cidr', list: ['198.51.100.0/24'] }, 'fixture-2');
  assert.ok(wl2.ok);
  publish.setWarninglists(WarninglistMatcher.compile([wl2.list]).matcher);
  const old = l.get('pan', 'ip');
  const rebuilt = l.rebuild();
  assert.ok(!('missing' in old));
  const during = l.get('pan', 'ip');
  assert.ok(!('missing' in during));
  assert.equal(during.snapshot, old.snapshot, 'served from the previous lists while rebuilding');
  await rebuilt;
  assert.equal(body(l, 'pan', 'ip'), '8.8.8.8\n', 'Resolvers no longer loaded; 198.51.100.1 is on the new list');
});

test('values the format cannot carry are skipped and counted by reason; domains with subdomains get the wildcard line', async (t) => {
  const { make, put, metric } = await rig(t, {
    pan: { format: 'paloalto', kinds: ['url', 'domain'], subdomains: true },
  });
  await put([
    item('ftp://files.example/x.exe'),
    item('http://evil.example/a*b'),
    item('http://ok.example/a'),
    item('evil.example'),
  ]);
  const l = make();
  await l.build();
  assert.equal(body(l, 'pan', 'url'), 'ok.example/a\n');
  assert.equal(body(l, 'pan', 'domain'), 'evil.example\n*.evil.example\n');
  assert.equal(await metric('stixgate_edl_values_skipped_total', 'list="pan",kind="url",reason="scheme"'), 1);
  assert.equal(
    await metric('stixgate_edl_values_skipped_total', 'list="pan",kind="url",reason="wildcard_character"'),
    1,
  );
});

test('two indicators listing one line: it stays while either does', async (t) => {
  const { make, put } = await rig(t, { pan: { format: 'paloalto', kinds: ['url'] } });
  // http:// and https:// of one URL are one PAN-OS line
  const a = item('http://evil.example/x');
  const b = item('https://evil.example/x');
  await put([a, b]);
  const l = make();
  await l.build();
  assert.equal(body(l, 'pan', 'url'), 'evil.example/x\n');
  await put([{ ...a, object: { ...a.object, modified: '2026-02-02T00:00:00.000Z', revoked: true } }]);
  await l.tick();
  assert.equal(body(l, 'pan', 'url'), 'evil.example/x\n', 'still listed by the https indicator');
  await put([{ ...b, object: { ...b.object, modified: '2026-02-02T00:00:00.000Z', revoked: true } }]);
  await l.tick();
  assert.equal(body(l, 'pan', 'url'), '');
});
