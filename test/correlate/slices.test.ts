import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CORRELATION_SLICE } from '../../src/correlate/correlator.js';
import { ind, rig, NOW } from './fixtures.js';
import { turnsDuring } from '../helpers/turns.js';
import { must } from '../helpers/must.js';

test('a catch-up applies at most CORRELATION_SLICE changes per transaction, an event-loop turn apart', async (t) => {
  const r = await rig(t);
  const n = CORRELATION_SLICE * 5 + 3;
  const objects = Array.from({ length: n }, (_, i) =>
    ind(i + 1, `[ipv4-addr:value = '10.1.${(i >> 8) & 255}.${i & 255}']`),
  );
  // two indicators sharing a value correlate
  objects.push(ind(n + 1, "[ipv4-addr:value = '10.1.0.7']"));
  const res = await r.store.upsert(
    objects.map((object) => ({ object, source: 'feed_a' })),
    { now: NOW },
  );
  assert.equal(res.created, n + 1);
  // one page holding everything: only the slicing gives the loop its turns
  const { value, turns } = await turnsDuring(() => r.correlator.catchUp(r.store, { pageSize: 50_000 }));
  assert.deepEqual(value, { applied: n + 1, seq: n + 1, caughtUp: true });
  assert.ok(turns >= 5, `turns: ${turns}`);
  assert.deepEqual(await r.ids(must(objects[7], 'objects[7]').id), [must(objects[n], 'objects[n]').id]);
});

test('while the owner is busy (an ingest runs) a timed catch-up applies one slice per tick; idle, it catches up fully', async (t) => {
  const r = await rig(t);
  const n = CORRELATION_SLICE * 3;
  const objects = Array.from({ length: n }, (_, i) =>
    ind(i + 1, `[ipv4-addr:value = '10.2.${(i >> 8) & 255}.${i & 255}']`),
  );
  await r.store.upsert(
    objects.map((object) => ({ object, source: 'feed_a' })),
    { now: NOW },
  );
  t.mock.timers.enable({ apis: ['setInterval'] });
  let busy = true;
  r.correlator.start(r.store, 1000, undefined, () => busy);
  t.after(() => r.correlator.stop());
  t.mock.timers.tick(1000);
  await r.correlator.catchUp(r.store, { limit: 0 }); // joins the run the tick started
  assert.equal(r.correlator.seq, CORRELATION_SLICE);
  t.mock.timers.tick(1000);
  await r.correlator.catchUp(r.store, { limit: 0 });
  assert.equal(r.correlator.seq, 2 * CORRELATION_SLICE);
  busy = false;
  t.mock.timers.tick(1000);
  await r.correlator.catchUp(r.store, { limit: 0 });
  assert.equal(r.correlator.seq, n);
});
