import { test } from 'node:test';
import assert from 'node:assert/strict';
import { config, ind, iso, ledgerHarness, NOW, type LedgerRig } from './ledger-harness.js';

/**
 * Reconcile repairs in the delivery ledger (docs/deliveries.md), for every store that keeps one: a
 * value the product lost is written again, one it holds stale is rewritten, one it should not hold
 * is taken out; each gets its state with reason `reconcile` and the drift in the detail, and a value
 * in sync keeps its row.
 */
export function runLedgerReconcileCases(name: string, rig: LedgerRig): void {
  test(`${name}: reconcile repairs write the ledger: missing and stale are present, extra removed, by reason reconcile`, async (t) => {
    const h = await ledgerHarness(t, rig);
    await h.put([ind('11.0.0.1'), ind('11.0.0.2'), ind('11.0.0.3')], 'feed', 'clear');
    await h.put([ind('11.0.0.4', { labels: ['benign'] })], 'feed', 'clear');
    const filtered = config({}, { exclude_labels: ['benign'] });
    await h.run({ config: filtered });
    assert.deepEqual([...h.sink.held].sort(), ['11.0.0.1', '11.0.0.2', '11.0.0.3']);
    assert.equal((await h.one('11.0.0.4')).reason, 'filter');
    // drift on the remote side: one value lost, one changed by hand, one the sink must not hold added
    h.sink.held.delete('11.0.0.1');
    h.sink.stale.add('11.0.0.2');
    h.sink.held.add('11.0.0.4');
    const later = NOW + 60_000;
    const res = await h.reconcile({ config: filtered, now: () => later });
    assert.deepEqual([res.counts.missing, res.counts.stale, res.counts.extra, res.counts.in_sync], [1, 1, 1, 1]);
    assert.deepEqual([...h.sink.held].sort(), ['11.0.0.1', '11.0.0.2', '11.0.0.3']);

    const missing = await h.one('11.0.0.1');
    assert.deepEqual(
      [missing.state, missing.reason, missing.since, missing.detail],
      ['present', 'reconcile', iso(later), 'reconcile: missing (the product did not hold it)'],
    );
    assert.deepEqual(missing.sources, [{ source: 'feed', tlp: 'clear' }]);
    const stale = await h.one('11.0.0.2');
    assert.deepEqual(
      [stale.state, stale.reason, stale.detail],
      ['present', 'reconcile', 'reconcile: stale (the product held other content)'],
    );
    assert.ok((stale.seq ?? 0) > 0, 'a repair keeps the sequence of the change last delivered');
    const extra = await h.one('11.0.0.4');
    assert.deepEqual(
      [extra.state, extra.reason, extra.since, extra.detail],
      ['removed', 'reconcile', iso(later), 'reconcile: extra (the product held it, the sink should not)'],
    );
    assert.deepEqual(extra.sources, [{ source: 'feed', tlp: 'clear' }]);
    const inSync = await h.one('11.0.0.3');
    assert.deepEqual([inSync.state, inSync.reason, inSync.since], ['present', 'pushed', iso(NOW)]);

    // the next push of a change replaces the repair's reason
    await h.put([{ ...ind('11.0.0.1'), modified: iso(later + 1000), description: 'again' }], 'feed', 'clear', later);
    await h.run({ config: filtered, now: () => later + 5000 });
    const pushed = await h.one('11.0.0.1');
    assert.deepEqual([pushed.state, pushed.reason, pushed.detail], ['present', 'pushed', null]);
  });
}
