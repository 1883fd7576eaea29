import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StixgateError } from '../../src/core/errors.js';
import { openInput } from '../../src/pipeline/input.js';
import { countsAsDocumentFailure, POISON_AFTER, poisonCursorName, RunDocuments } from '../../src/pipeline/poison.js';
import { cursorName } from '../../src/pipeline/runner.js';
import type { Source } from '../../src/pipeline/types.js';
import { openEmbeddedStore } from '../../src/store/embedded/index.js';
import { must } from '../helpers/must.js';
import { runComponent, settled, sourceComponent } from '../helpers/source-harness.js';

/** FAULTS P8: a document that fails or kills the run again and again is quarantined, counted and skipped; new content is read. */
const NOW = Date.parse('2026-03-01T12:00:00Z');

async function rig(t: { after: (fn: () => unknown) => void }) {
  const dir = mkdtempSync(join(tmpdir(), 'stixgate-poison-'));
  const file = join(dir, 'list.txt');
  writeFileSync(file, '198.51.100.7\n198.51.100.8\n');
  const comp = sourceComponent('feed', { type: 'text_list', url: `file://${file}`, tlp: 'clear' });
  let store = await openEmbeddedStore({ dataDir: join(dir, 'data') });
  t.after(async () => {
    await comp.http.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const run = async (source: Source = comp.source) => {
    const r = await settled(runComponent(comp, store, NOW, { source, allowRed: true }));
    return { sum: r.value, error: r.error };
  };
  return {
    file,
    run,
    comp,
    store: () => store,
    /** Closes and reopens the store, as a restart after kill -9 would. */
    restart: async () => {
      await store.close();
      store = await openEmbeddedStore({ dataDir: join(dir, 'data') });
    },
    indicators: async () => (await store.stats()).byType.indicator ?? 0,
  };
}

test(`P8: a document that kills the process while being mapped is skipped after ${POISON_AFTER} attempts, with a reason; new content is read`, async (t) => {
  const r = await rig(t);
  // three runs that die mid-document: the attempt is written before mapping, the run never ends
  for (let i = 0; i < POISON_AFTER; i++) {
    const doc = await openInput(`file://${r.file}`, {
      maxBytes: 1 << 20,
      name: 'feed',
      guard: new RunDocuments(r.store(), 'feed'),
    });
    for await (const _ of doc.body) break;
    await r.restart();
  }
  const q = await r.run();
  assert.ok(q.error instanceof StixgateError, String(q.error));
  assert.equal(q.error.code, 'STIXGATE_ERR_INPUT_POISON');
  assert.equal(q.error.reason, 'poison');
  assert.match(
    q.error.message,
    /list\.txt \(\d+ bytes, modified [^)]+\) quarantined: 3 earlier attempts failed or did not finish/,
  );
  assert.equal(await r.indicators(), 0, 'the quarantined document is not mapped');
  assert.equal(await r.store().getCursor(cursorName('feed')), undefined);
  // it stays skipped (each run refuses it at once, no new attempt is counted)
  assert.equal(((await r.run()).error as StixgateError).code, 'STIXGATE_ERR_INPUT_POISON');
  // the source is not blocked: new content is read, and its attempt is cleared when the run ends
  writeFileSync(r.file, '198.51.100.9\n');
  const ok = await r.run();
  assert.equal(ok.error, undefined, String(ok.error));
  assert.equal(must(ok.sum, 'ok.sum').created, 1);
  const ledger = JSON.parse(
    must(await r.store().getCursor(poisonCursorName('feed')), "(await r.store().getCursor(poisonCursorName('feed')))"),
  ) as Record<string, number>;
  assert.deepEqual(Object.values(ledger), [POISON_AFTER], 'only the quarantined document stays listed');
});

test('P8: a mapper that throws on a document is counted each run and quarantined; a good run clears the count', async (t) => {
  const r = await rig(t);
  let mapped = 0;
  const crashing: Source = {
    async *pages(ctx) {
      const doc = await openInput(`file://${r.file}`, { maxBytes: 1 << 20, name: ctx.id, guard: ctx.documents });
      for await (const _ of doc.body) {
        mapped++;
        throw new RangeError('Maximum call stack size exceeded');
      }
      yield* [];
    },
  };
  for (let i = 0; i < POISON_AFTER; i++) assert.ok((await r.run(crashing)).error instanceof RangeError);
  assert.equal(mapped, POISON_AFTER);
  assert.equal(((await r.run(crashing)).error as StixgateError).code, 'STIXGATE_ERR_INPUT_POISON');
  assert.equal(mapped, POISON_AFTER, 'not mapped again');

  // a document that failed once and then goes through is not held against later failures
  writeFileSync(r.file, '198.51.100.10\n');
  assert.ok((await r.run(crashing)).error instanceof RangeError);
  assert.equal((await r.run()).error, undefined);
  const ledger = JSON.parse(
    must(await r.store().getCursor(poisonCursorName('feed')), "(await r.store().getCursor(poisonCursorName('feed')))"),
  ) as Record<string, number>;
  assert.equal(Object.keys(ledger).length, 1, 'the good document is cleared; the poisoned one stays');
});

test("P8: failures that are not the document's fault (store, network, shutdown) are not counted", () => {
  assert.equal(countsAsDocumentFailure(new StixgateError('STIXGATE_ERR_STORE_UNAVAILABLE', 'x'), false), false);
  assert.equal(countsAsDocumentFailure(new StixgateError('STIXGATE_ERR_STORE_IO', 'disk full'), false), false);
  assert.equal(countsAsDocumentFailure(new StixgateError('STIXGATE_ERR_HTTP_NETWORK', 'reset'), false), false);
  assert.equal(
    countsAsDocumentFailure(new StixgateError('STIXGATE_ERR_INPUT_PARSE', 'x'), true),
    false,
    'aborted by shutdown',
  );
  assert.equal(countsAsDocumentFailure(new StixgateError('STIXGATE_ERR_INPUT_PARSE', 'x'), false), true);
  assert.equal(countsAsDocumentFailure(new TypeError('x'), false), true);
});
