import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sinkCursorName } from '../../src/delivery/runner.js';
import { PublishFilter } from '../../src/filter/policy.js';
import { config, ind, iso, ledgerHarness as setup, NOW, type LedgerRig } from './ledger-harness.js';
import { runLedgerReconcileCases } from './ledger-reconcile-cases.js';
import { must } from '../helpers/must.js';

export type { LedgerRig } from './ledger-harness.js';

export function runLedgerCases(name: string, rig: LedgerRig): void {
  runLedgerReconcileCases(name, rig);
  test(`${name}: pushed, revoked, expired: present then removed, with since, sequence, sources and score`, async (t) => {
    const h = await setup(t, rig);
    const a = ind('1.2.3.4');
    const b = ind('5.6.7.8', { valid_until: iso(NOW + 60_000) });
    await h.put([a, b], 'feed', 'clear');
    await h.run();
    const head = await h.store().head();
    const p = await h.one('1.2.3.4');
    assert.equal(p.state, 'present');
    assert.equal(p.reason, 'pushed');
    assert.equal(p.since, iso(NOW));
    assert.ok(must(p.seq, 'p.seq') >= 1 && must(p.seq, 'p.seq') <= head);
    assert.deepEqual(p.sources, [{ source: 'feed', tlp: 'clear' }]);
    assert.equal(typeof p.score, 'number');
    assert.equal(p.threshold, 0);
    assert.equal(p.type, 'ipv4-addr');

    await h.put([{ ...a, modified: iso(NOW + 1000), revoked: true }], 'feed', 'clear', NOW + 1000);
    assert.equal((await h.one('1.2.3.4')).state, 'pending', 'changed in the store, not yet delivered');
    assert.equal((await h.one('1.2.3.4')).previous?.state, 'present');
    await h.run({ now: () => NOW + 5000 });
    const r = await h.one('1.2.3.4');
    assert.deepEqual([r.state, r.reason, r.since], ['removed', 'revoked', iso(NOW + 5000)]);
    assert.equal(r.seq, await h.store().head());

    assert.equal(await h.store().expire(NOW + 120_000), 1);
    await h.run({ now: () => NOW + 120_000 });
    const e = await h.one('5.6.7.8');
    assert.deepEqual([e.state, e.reason, e.since], ['removed', 'expired', iso(NOW + 120_000)]);
  });

  test(`${name}: withheld by each reason: filter, TLP ceiling, score below the threshold, warninglist, allowlist`, async (t) => {
    const h = await setup(t, rig);
    await h.put(
      [ind('10.0.0.1', { labels: ['scanner'] }), ind('10.0.0.2'), ind('google.com'), ind('allowed.example')],
      'feed',
      'green',
    );
    await h.put([ind('10.0.0.3')], 'secret', 'amber');
    await h.put([ind('10.0.0.4')], 'weak', 'green');
    const publish = new PublishFilter({
      allowlist: ['allowed.example'],
      warninglists: {
        size: 1,
        match: (o: { value: string }) =>
          o.value === 'google.com'
            ? [{ list: 'Top sites', id: 'top', type: 'hostname', entry: 'google.com', value: 'google.com' }]
            : [],
      } as never,
    });
    const scores = new Map<string, number>();
    for (const v of ['10.0.0.2', '10.0.0.4']) {
      const s = must((await h.store().query({ value: v })).objects[0], `an object holding ${v}`).x_stixgate?.score;
      scores.set(v, s as number);
    }
    // the weak source's value scores below a threshold the others meet
    await h
      .store()
      .modify(
        [must((await h.store().query({ value: '10.0.0.4' })).objects[0], 'an object holding 10.0.0.4').id],
        (o) => ({ ...o, x_stixgate: { ...must(o.x_stixgate, 'o.x_stixgate'), score: 10 } }),
        { now: NOW },
      );
    await h.run({
      config: config({ max_tlp: 'green' }, { exclude_labels: ['scanner'], min_score: 20 }),
      publish: (o, s) => publish.check(o, s),
    });
    assert.deepEqual([...h.sink.held].sort(), ['10.0.0.2']);
    const f = await h.one('10.0.0.1');
    assert.deepEqual([f.state, f.reason, f.detail], ['withheld', 'filter', 'filters.exclude_labels: scanner']);
    const tlp = await h.one('10.0.0.3');
    assert.deepEqual([tlp.state, tlp.reason], ['withheld', 'tlp']);
    assert.deepEqual(tlp.sources, [{ source: 'secret', tlp: 'amber' }]);
    const sc = await h.one('10.0.0.4');
    assert.deepEqual([sc.state, sc.reason, sc.score, sc.threshold], ['withheld', 'score', 10, 20]);
    const w = await h.one('google.com');
    assert.deepEqual([w.state, w.reason, w.detail], ['withheld', 'warninglist', 'Top sites: google.com']);
    const al = await h.one('allowed.example');
    assert.equal(al.state, 'withheld');
    assert.equal(al.reason, 'allowlist');
    assert.match(must(al.detail, 'al.detail'), /allowed\.example/);
    assert.equal((await h.one('10.0.0.2')).state, 'present');
  });

  test(`${name}: rejected by the vendor: the message is kept; a later acknowledgement makes it present with a new since`, async (t) => {
    const h = await setup(t, rig);
    const a = ind('9.9.9.9');
    await h.put([a, ind('9.9.9.8')], 'feed', 'clear');
    h.sink.refuse.set('9.9.9.9', 'Invalid indicator value for type IP (code 1002)');
    const sum = await h.run();
    assert.equal(sum.rejected, 1);
    const r = await h.one('9.9.9.9');
    assert.deepEqual(
      [r.state, r.reason, r.detail, r.since],
      ['rejected', 'vendor', 'Invalid indicator value for type IP (code 1002)', iso(NOW)],
    );
    assert.equal((await h.one('9.9.9.8')).state, 'present');
    h.sink.refuse.clear();
    await h.put([{ ...a, modified: iso(NOW + 1000), description: 'again' }], 'feed', 'clear', NOW + 1000);
    await h.run({ now: () => NOW + 9000 });
    const p = await h.one('9.9.9.9');
    assert.deepEqual([p.state, p.since, p.detail], ['present', iso(NOW + 9000), null]);
  });

  test(`${name}: a reader with a lower TLP ceiling sees only the contributions it may see, and no score built from others`, async (t) => {
    const h = await setup(t, rig);
    const a = ind('7.7.7.7');
    await h.put([a], 'public', 'clear');
    await h.put([a], 'partner', 'amber');
    await h.run();
    const full = await h.one('7.7.7.7', 'amber');
    assert.deepEqual(full.sources, [
      { source: 'partner', tlp: 'amber' },
      { source: 'public', tlp: 'clear' },
    ]);
    assert.equal(typeof full.score, 'number');
    const clear = await h.one('7.7.7.7', 'clear');
    assert.deepEqual(clear.sources, [{ source: 'public', tlp: 'clear' }]);
    assert.equal(clear.score, null, 'the score was computed from a contribution the reader may not see');
    assert.equal(clear.state, 'present');

    // a value only an amber source holds: a clear reader learns nothing of it, not even that a sink withheld it
    await h.put([ind('7.7.7.8')], 'partner', 'amber');
    await h.run({ config: config({ max_tlp: 'green' }) });
    assert.equal((await h.one('7.7.7.8', 'amber')).reason, 'tlp');
    assert.deepEqual((await h.why('7.7.7.8', 'clear')).deliveries, []);
    assert.deepEqual((await h.why('7.7.7.8', 'green')).deliveries, []);

    // pending and unknown entries only for a value the reader can see in the store
    await h.put([ind('7.7.7.9')], 'partner', 'amber');
    assert.deepEqual(
      (await h.why('7.7.7.9', 'amber')).deliveries.map((d) => d.state),
      ['pending'],
    );
    assert.deepEqual((await h.why('7.7.7.9', 'clear')).deliveries, []);
    assert.deepEqual(
      (await h.why('7.7.7.9', 'amber', ['siem', 'other'])).deliveries.map((d) => [d.sink, d.state]),
      [
        ['other', 'pending'],
        ['siem', 'pending'],
      ],
    );
    assert.deepEqual((await h.why('7.7.7.9', 'green', ['siem', 'other'])).deliveries, []);
  });

  test(`${name}: a skip never overwrites a value the sink holds; unknown for a configured sink with no record; invalid values`, async (t) => {
    const h = await setup(t, rig);
    const a = ind('8.8.4.4');
    await h.put([a], 'feed', 'clear');
    await h.run();
    await h.put([{ ...a, modified: iso(NOW + 1000), labels: ['scanner'] }], 'feed', 'clear', NOW + 1000);
    await h.run({ config: config({}, { exclude_labels: ['scanner'] }), now: () => NOW + 2000 });
    const e = await h.one('8.8.4.4');
    assert.deepEqual(
      [e.state, e.since],
      ['present', iso(NOW)],
      'static filters skip without a removal: the value is still there',
    );
    const both = await h.why('8.8.4.4', 'red', ['other', 'siem']);
    assert.deepEqual(
      both.deliveries.map((d) => [d.sink, d.state]),
      [
        ['other', 'pending'],
        ['siem', 'present'],
      ],
    );
    const bad = await h.why('not a value at all \u0000');
    assert.ok(bad.invalid);
    assert.deepEqual(bad.deliveries, []);
  });

  test(`${name}: the ledger and the cursor survive a reopen of the store unchanged`, async (t) => {
    const h = await setup(t, rig);
    await h.put([ind('6.6.6.6'), ind('6.6.6.7', { labels: ['x'] })], 'feed', 'green');
    h.sink.refuse.set('6.6.6.6', 'nope');
    await h.run({ config: config({}, { exclude_labels: ['x'] }) });
    const before = [await h.why('6.6.6.6'), await h.why('6.6.6.7')];
    const cursor = await h.store().getCursor(sinkCursorName('siem'));
    await h.reopen();
    assert.deepEqual([await h.why('6.6.6.6'), await h.why('6.6.6.7')], before);
    assert.equal(await h.store().getCursor(sinkCursorName('siem')), cursor);
    assert.deepEqual(
      before.map((a) => must(a.deliveries[0], 'a.deliveries[0]').state),
      ['rejected', 'withheld'],
    );
  });
}
