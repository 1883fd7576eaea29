import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bump, ind, NOW, rel, report, rig, sco, sdo, sid } from './fixtures.js';
import { must } from '../helpers/must.js';

const I = (n: number) => sid('indicator', n);

test('explicit: indicates, report membership, and the path with the relationship that states it', async (t) => {
  const r = await rig(t);
  const mal = sdo('malware', 1, 'Emotet', 'green', { is_family: true });
  const actor = sdo('threat-actor', 2, 'TA542');
  await r.put([
    ind(1, "[ipv4-addr:value = '203.0.113.1']"),
    ind(2, "[domain-name:value = 'bad.example']"),
    mal,
    actor,
    rel(1, I(1), 'indicates', mal.id),
    rel(2, mal.id, 'attributed-to', actor.id),
    report(1, [I(1), I(2), mal.id]),
  ]);
  const res = await r.correlator.related(r.store, I(1), { now: NOW });
  assert.ok(res);
  const byId = new Map(res.related.map((x) => [x.object.id, x.path]));
  assert.deepEqual([...byId.keys()].sort(), [mal.id, sid('report', 1)].sort());
  assert.deepEqual(byId.get(mal.id), [{ from: I(1), kind: 'indicates', to: mal.id, via: sid('relationship', 1) }]);
  assert.deepEqual(byId.get(sid('report', 1)), [{ from: sid('report', 1), kind: 'object-ref', to: I(1) }]);
  assert.equal(res.capped, false);

  // depth 2: the actor through the malware, the other indicator through the report
  const deep = await r.correlator.related(r.store, I(1), { depth: 2, now: NOW });
  const deepIds = must(deep, 'deep')
    .related.map((x) => x.object.id)
    .sort();
  assert.deepEqual(deepIds, [mal.id, actor.id, I(2), sid('report', 1)].sort());
  const toActor = must(
    must(deep, 'deep').related.find((x) => x.object.id === actor.id),
    'deep.related.find((x) => x.object.id === actor.id)',
  ).path;
  assert.deepEqual(
    toActor.map((s) => s.kind),
    ['indicates', 'attributed-to'],
  );
  // types filter applies to results only (the walk goes through anything)
  assert.deepEqual(await r.ids(I(1), { depth: 2, types: ['threat-actor'] }), [actor.id]);
  // unknown id
  assert.equal(await r.correlator.related(r.store, sid('indicator', 999)), undefined);

  const summary = r.correlator.relatedSummary(I(1));
  assert.deepEqual(summary.malware, ['Emotet']);
  assert.deepEqual(summary.reports, ['report 1']);
  assert.deepEqual(summary.threat_actors, []);
  assert.deepEqual(r.correlator.relatedSummary(mal.id).threat_actors, ['TA542']);
});

test('same value across objects and sources: indicators and SCOs holding one canonical value', async (t) => {
  const r = await rig(t);
  await r.put([ind(1, "[ipv4-addr:value = '198.51.100.7']")], 'feed_a');
  await r.put(
    [
      ind(2, "[ipv4-addr:value = '198.51.100.7'] OR [domain-name:value = 'x.example']"),
      sco('ipv4-addr', 3, '198.51.100.7'),
    ],
    'feed_b',
  );
  await r.put([ind(4, "[domain-name:value = 'X.Example']"), ind(5, "[ipv4-addr:value = '198.51.100.8']")], 'feed_c');
  const res = await r.correlator.related(r.store, I(1), { now: NOW });
  assert.deepEqual(
    must(res, 'res')
      .related.map((x) => x.object.id)
      .sort(),
    [I(2), sid('ipv4-addr', 3)].sort(),
  );
  assert.deepEqual(must(must(res, 'res').related[0], 'res.related[0]').path, [
    {
      from: I(1),
      kind: 'same-value',
      to: must(must(res, 'res').related[0], 'res.related[0]').object.id,
      derived: true,
      via: 'ipv4-addr:198.51.100.7',
    },
  ]);
  // canonical: X.Example and x.example are one value
  assert.deepEqual(await r.ids(I(4)), [I(2)]);
});

test('inside-cidr: an address inside a listed range, whichever arrives first; IPv4 and IPv6', async (t) => {
  const r = await rig(t);
  await r.put([ind(1, "[ipv4-addr:value = '198.51.100.7']"), ind(9, "[ipv4-addr:value = '198.51.101.7']")]);
  await r.put([ind(2, "[ipv4-addr:value = '198.51.100.0/24']"), ind(3, "[ipv4-addr:value = '198.51.0.0/16']")]);
  await r.put([ind(4, "[ipv4-addr:value = '198.51.100.200']")]);
  assert.deepEqual(await r.ids(I(2)), [I(1), I(4)]);
  assert.deepEqual(await r.ids(I(3)), [I(1), I(4), I(9)]);
  assert.deepEqual(await r.ids(I(4)), [I(2), I(3)]);
  const path = must(
    must(
      await r.correlator.related(r.store, I(4), { now: NOW }),
      '(await r.correlator.related(r.store, I(4), { now: NOW }))',
    ).related.find((x) => x.object.id === I(2)),
    '(await r.correlator.related(r.store, I(4), { now: NOW }))...',
  ).path;
  assert.deepEqual(path, [
    { from: I(4), kind: 'inside-cidr', to: I(2), derived: true, via: 'ipv4-addr:198.51.100.0/24' },
  ]);

  await r.put([ind(10, "[ipv6-addr:value = '2001:db8::1']"), ind(11, "[ipv6-addr:value = '2001:db8:1::1']")]);
  await r.put([ind(12, "[ipv6-addr:value = '2001:DB8::/48']")]);
  await r.put([ind(13, "[ipv6-addr:value = '2001:db8:0:ffff::9']")]);
  assert.deepEqual(await r.ids(I(12)), [I(10), I(13)]);
});

test('on-domain: a URL whose host is a listed domain or one of its subdomains', async (t) => {
  const r = await rig(t);
  await r.put([
    ind(1, "[url:value = 'http://www.example.com/a']"),
    ind(2, "[url:value = 'https://example.com:8443/b?q=1']"),
    ind(3, "[url:value = 'http://notexample.com/c']"),
  ]);
  await r.put([ind(4, "[domain-name:value = 'example.com']")]);
  await r.put([
    ind(5, "[url:value = 'http://deep.sub.example.com/d']"),
    ind(6, "[url:value = 'http://198.51.100.1/e']"),
  ]);
  assert.deepEqual(await r.ids(I(4)), [I(1), I(2), I(5)]);
  assert.deepEqual(await r.ids(I(5)), [I(4)]);
  const path = must(
    must(
      await r.correlator.related(r.store, I(1), { now: NOW }),
      '(await r.correlator.related(r.store, I(1), { now: NOW }))',
    ).related[0],
    '(await r.correlator.related(r.store, I(1), { now: NOW }))...',
  ).path;
  assert.deepEqual(path, [{ from: I(1), kind: 'on-domain', to: I(4), derived: true, via: 'domain-name:example.com' }]);
  assert.deepEqual(await r.ids(I(3)), []);
});

test('resolves-to: a domain resolving to a listed address (SCO resolves_to_refs or a resolves-to relationship)', async (t) => {
  const r = await rig(t);
  const ip = sco('ipv4-addr', 1, '203.0.113.9');
  await r.put([ind(1, "[domain-name:value = 'c2.example']"), ind(2, "[ipv4-addr:value = '203.0.113.9']")]);
  // enrichment result: the domain SCO naming its address
  await r.put([ip, sco('domain-name', 2, 'c2.example', { resolves_to_refs: [ip.id] })]);
  const res = await r.correlator.related(r.store, I(1), { now: NOW });
  const toIp = must(res, 'res').related.find((x) => x.object.id === I(2));
  assert.ok(toIp, 'domain indicator → address indicator');
  assert.deepEqual(toIp.path, [
    { from: I(1), kind: 'resolves-to', to: I(2), derived: true, via: 'ipv4-addr:203.0.113.9' },
  ]);
  assert.ok((await r.ids(I(2))).includes(I(1)), 'and back');

  // the same through a relationship between SCOs, arriving before the SCOs themselves
  const ip2 = sco('ipv4-addr', 3, '203.0.113.10');
  const dom2 = sco('domain-name', 4, 'c3.example');
  const link = rel(7, dom2.id, 'resolves-to', ip2.id);
  await r.put([link, ind(3, "[domain-name:value = 'c3.example']")]);
  await r.put([ip2, dom2, ind(4, "[ipv4-addr:value = '203.0.113.10']")]);
  assert.ok((await r.ids(I(3))).includes(I(4)));
  // the relationship revoked: the derived link goes with it
  await r.put([bump(link, { revoked: true })]);
  assert.ok(!(await r.ids(I(3))).includes(I(4)));
});

test('shares-malware: hash indicators that indicate the same malware are siblings', async (t) => {
  const r = await rig(t);
  const mal = sdo('malware', 1, 'QakBot', 'green', { is_family: true });
  await r.put([
    mal,
    ind(1, "[file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e']"),
    ind(2, "[file:hashes.'SHA-256' = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855']"),
    ind(3, "[url:value = 'http://qak.example/x']"),
    rel(1, I(1), 'indicates', mal.id),
    rel(2, I(2), 'indicates', mal.id),
    rel(3, I(3), 'indicates', mal.id),
  ]);
  const res = await r.correlator.related(r.store, I(1), { now: NOW });
  assert.deepEqual(
    must(res, 'res')
      .related.map((x) => x.object.id)
      .sort(),
    [I(2), mal.id].sort(),
  );
  assert.deepEqual(
    must(
      must(res, 'res').related.find((x) => x.object.id === I(2)),
      'res.related.find((x) => x.object.id === I(2))',
    ).path,
    [{ from: I(1), kind: 'shares-malware', to: I(2), derived: true, via: mal.id }],
  );
  // the URL indicator is no file: reached only through the malware at depth 2
  assert.deepEqual(await r.ids(I(3)), [mal.id]);
});

test('revoked and expired objects drop out; updated reports lose dropped members', async (t) => {
  const r = await rig(t);
  const a = ind(1, "[ipv4-addr:value = '192.0.2.1']");
  const b = ind(2, "[ipv4-addr:value = '192.0.2.1']");
  const c = ind(3, "[ipv4-addr:value = '192.0.2.1']", 'green', { valid_until: '2026-02-15T00:00:00.000Z' });
  const rep = report(1, [a.id, b.id]);
  await r.put([a, b, c, rep]);
  const feb = Date.parse('2026-02-01T00:00:00.000Z');
  assert.deepEqual(await r.ids(a.id, { depth: 2, now: feb }), [b.id, c.id, rep.id].sort());
  assert.deepEqual(await r.ids(a.id, { depth: 2 }), [b.id, rep.id].sort(), 'c is past valid_until at NOW');
  await r.put([bump(b, { revoked: true })]);
  assert.deepEqual(await r.ids(a.id, { depth: 2, now: feb }), [c.id, rep.id].sort(), 'revoked b is gone');
  // the store's expiry job logs c as expired: the index drops it as well (whatever the clock says)
  assert.equal(await r.store.expire(NOW), 1);
  await r.correlator.catchUp(r.store);
  assert.deepEqual(await r.ids(a.id, { depth: 2, now: feb }), [rep.id]);
  await r.put([bump(rep, { object_refs: [b.id] })]);
  assert.deepEqual(await r.ids(a.id, { depth: 2 }), []);
});

test('fan-out cap: a value correlates at most `maxFanout` holders and links, and the rest are counted', async (t) => {
  const r = await rig(t, { maxFanout: 3 });
  await r.put(Array.from({ length: 6 }, (_, i) => ind(i + 1, "[ipv4-addr:value = '192.0.2.50']")));
  const res = await r.correlator.related(r.store, I(1), { now: NOW });
  assert.equal(must(res, 'res').related.length, 3);
  assert.equal(must(res, 'res').capped, true);
  assert.equal(r.correlator.stats().capped['same-value'], 3, 'holders 4, 5, 6 were beyond the cap');

  // a range over ten listed addresses links three of them, and the refused link is counted
  await r.put(Array.from({ length: 10 }, (_, i) => ind(100 + i, `[ipv4-addr:value = '10.1.0.${i + 1}']`)));
  await r.put([ind(200, "[ipv4-addr:value = '10.1.0.0/24']")]);
  const cidr = await r.correlator.related(r.store, I(200), { now: NOW });
  assert.equal(must(cidr, 'cidr').related.length, 3);
  assert.equal(must(cidr, 'cidr').capped, true);
  assert.equal(r.correlator.stats().capped['inside-cidr'], 1);
  // one more address inside the full range: refused, counted
  await r.put([ind(300, "[ipv4-addr:value = '10.1.0.77']")]);
  assert.equal(r.correlator.stats().capped['inside-cidr'], 2);
  assert.deepEqual(await r.ids(I(300)), []);
  const st = r.correlator.stats();
  assert.equal(st.cappedValues, 2);
  assert.ok(st.valueLinks <= 3 * st.values, 'links bounded by the cap per value');
});

test('TLP: results above the caller TLP, and results reached through them, are left out', async (t) => {
  const r = await rig(t);
  const mal = sdo('malware', 1, 'Secret', 'amber');
  const actor = sdo('threat-actor', 2, 'Public', 'green');
  await r.put([
    ind(1, "[ipv4-addr:value = '192.0.2.9']"),
    mal,
    actor,
    rel(1, I(1), 'indicates', mal.id),
    rel(2, mal.id, 'attributed-to', actor.id),
  ]);
  assert.deepEqual(await r.ids(I(1), { depth: 2, maxTlp: 'amber' }), [mal.id, actor.id].sort());
  assert.deepEqual(
    await r.ids(I(1), { depth: 2, maxTlp: 'green' }),
    [],
    'the actor is reached only through the amber malware',
  );
  assert.deepEqual(r.correlator.relatedSummary(I(1), 'green').malware, []);
  assert.deepEqual(r.correlator.relatedSummary(I(1), 'amber').malware, ['Secret']);
});

test('the cursor survives a restart; a store behind the cursor triggers a rebuild', async (t) => {
  const r = await rig(t);
  await r.put([ind(1, "[ipv4-addr:value = '192.0.2.77']"), ind(2, "[ipv4-addr:value = '192.0.2.77']")]);
  const seq = r.correlator.seq;
  assert.equal(seq, await r.store.head());
  const { Correlator } = await import('../../src/correlate/index.js');
  await r.correlator.close();
  const again = new Correlator({ dataDir: r.dir });
  t.after(() => again.close());
  assert.equal(again.seq, seq);
  assert.deepEqual(await again.catchUp(r.store), { applied: 0, seq, caughtUp: true });
  assert.equal(
    must(await again.related(r.store, I(1), { now: NOW }), '(await again.related(r.store, I(1), { now: NOW }))').related
      .length,
    1,
  );

  // a fresh, empty store: the index starts again from 0
  const { EmbeddedStore } = await import('../../src/store/embedded/store.js');
  const { join } = await import('node:path');
  const fresh = new EmbeddedStore({ dataDir: join(r.dir, 'store2') });
  await fresh.open();
  t.after(() => fresh.close());
  await fresh.upsert([{ object: ind(5, "[ipv4-addr:value = '192.0.2.78']"), source: 'x' }], { now: NOW });
  const res = await again.catchUp(fresh);
  assert.equal(res.seq, 1);
  assert.equal(again.stats().nodes, 1);
});

test('a value whose last holder is revoked frees its fan-out budget; a holder coming back derives again', async (t) => {
  const r = await rig(t, { maxFanout: 2 });
  const a = ind(1, "[ipv4-addr:value = '10.9.0.1']");
  await r.put([a, ind(2, "[ipv4-addr:value = '10.9.0.2']"), ind(10, "[ipv4-addr:value = '10.9.0.0/24']")]);
  assert.deepEqual(await r.ids(I(10)), [I(1), I(2)]);
  await r.put([ind(3, "[ipv4-addr:value = '10.9.0.3']")]);
  assert.deepEqual(await r.ids(I(10)), [I(1), I(2)], 'the range is full: the third address is refused');
  assert.equal(r.correlator.stats().capped['inside-cidr'], 1);
  await r.put([bump(a, { revoked: true })]);
  assert.deepEqual(await r.ids(I(10)), [I(2)]);
  await r.put([ind(4, "[ipv4-addr:value = '10.9.0.4']")]);
  assert.deepEqual(await r.ids(I(10)), [I(2), I(4)], 'the freed budget goes to the next address');
  // an expired holder that is seen again (new valid_until) holds its value again
  const e = ind(5, "[domain-name:value = 'back.example']", 'green', { valid_until: '2026-02-15T00:00:00.000Z' });
  await r.put([e, ind(6, "[url:value = 'http://back.example/x']")]);
  await r.store.expire(NOW);
  await r.correlator.catchUp(r.store);
  assert.deepEqual(await r.ids(I(6)), []);
  await r.put([bump(e, { valid_until: '2026-06-01T00:00:00.000Z' }, '2026-02-20T00:00:00.000Z')]);
  assert.deepEqual(await r.ids(I(6)), [I(5)]);
});

test('metrics: capped links by derivation, applied changes, seq and sizes on the given registry', async (t) => {
  const { Registry } = await import('prom-client');
  const { CorrelationMetrics } = await import('../../src/correlate/index.js');
  const registry = new Registry();
  const metrics = new CorrelationMetrics(registry);
  const r = await rig(t, { maxFanout: 1, metrics });
  await r.put([
    ind(1, "[domain-name:value = 'm.example']"),
    ind(2, "[url:value = 'http://a.m.example/']"),
    ind(3, "[url:value = 'http://b.m.example/']"),
  ]);
  r.correlator.stats();
  const text = await registry.metrics();
  assert.match(text, /stixgate_correlation_capped_links_total\{derivation="on-domain"\} 1/);
  assert.match(text, /stixgate_correlation_changes_applied_total 3/);
  assert.match(text, new RegExp(`stixgate_correlation_seq ${await r.store.head()}`));
  assert.match(text, /stixgate_correlation_links\{kind="derived"\} 1/);
  assert.match(text, /stixgate_correlation_values 3/);
});

test('start(): follows the change log on a timer until stop() (fake clock)', async (t) => {
  const r = await rig(t);
  t.mock.timers.enable({ apis: ['setInterval'] });
  r.correlator.start(r.store, 20);
  t.after(() => r.correlator.stop());
  await r.store.upsert(
    [
      { object: ind(1, "[ipv4-addr:value = '192.0.2.200']"), source: 'a' },
      { object: ind(2, "[ipv4-addr:value = '192.0.2.200']"), source: 'b' },
    ],
    { now: NOW },
  );
  const head = await r.store.head();
  await r.correlator.catchUp(r.store, { limit: 0 }); // applies nothing itself
  assert.ok(r.correlator.seq < head, 'nothing applied before the timer fired');
  // the correlator's own 20 ms timer applies the changes
  t.mock.timers.tick(20);
  await r.correlator.catchUp(r.store, { limit: 0 }); // joins the run the tick started
  assert.equal(r.correlator.seq, head);
  assert.deepEqual(await r.ids(I(1)), [I(2)]);
  assert.equal(r.correlator.healthy, true);
  r.correlator.stop();
});
