import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sinkCursorName, sinkPublishName } from '../../src/delivery/runner.js';
import type { PublishCheck } from '../../src/delivery/select.js';
import { WarninglistMatcher } from '../../src/filter/matcher.js';
import { PublishFilter } from '../../src/filter/policy.js';
import { config, ind, setup } from './sink-run-kit.js';

/**
 * A change of the publish filter (warninglists reloaded, allowlists edited) reaches values the sink
 * already holds: the first run under a new filter withdraws every active value it now withholds,
 * once, in pages of the store (issue #13).
 */

function filter(values: string[], allowlist: string[] = []): PublishFilter {
  const lists = values.length
    ? [
        {
          id: 'fp',
          name: 'false positives',
          version: 1,
          description: '',
          type: 'string' as const,
          list: values,
          matching_attributes: [],
          origin: 'test',
        },
      ]
    : [];
  return new PublishFilter({ warninglists: WarninglistMatcher.compile(lists).matcher, allowlist });
}
const check =
  (f: PublishFilter): PublishCheck =>
  (o, s) =>
    f.check(o, s);

test('a value put on a warninglist after it was pushed is removed on the next run, once; a fresh sink skips the pass', async (t) => {
  const { sink, run, put, store } = await setup(t);
  await put(['1.2.3.4', '5.6.7.8', 'evil.example'].map((v) => ind(v)));
  const a = filter([]);
  await run({ publish: check(a), publishVersion: a.fingerprint });
  assert.deepEqual([...sink.held.keys()].sort(), ['1.2.3.4', '5.6.7.8', 'evil.example']);
  assert.equal(
    await store.getCursor(sinkPublishName('fake')),
    a.fingerprint,
    'a first run records the filter without a pass',
  );
  assert.equal(sink.calls.length, 1);

  // the same lists loaded again: same fingerprint, nothing to do
  const same = filter([]);
  assert.equal(same.fingerprint, a.fingerprint);
  await run({ publish: check(same), publishVersion: same.fingerprint });
  assert.equal(sink.calls.length, 1);

  // a warninglist now lists 1.2.3.4: no change in the log, yet the sink takes it out
  const b = filter(['1.2.3.4']);
  assert.notEqual(b.fingerprint, a.fingerprint);
  const sum = await run({ publish: check(b), publishVersion: b.fingerprint });
  assert.equal(sum.changes, 0, 'no change-log entry was needed');
  assert.equal(sum.removed, 1);
  assert.deepEqual(sink.calls.at(-1), { op: 'remove', keys: ['1.2.3.4'] });
  assert.deepEqual([...sink.held.keys()].sort(), ['5.6.7.8', 'evil.example']);
  assert.equal(await store.getCursor(sinkPublishName('fake')), b.fingerprint);
  const calls = sink.calls.length;
  await run({ publish: check(b), publishVersion: b.fingerprint });
  assert.equal(sink.calls.length, calls, 'the pass runs once per filter');

  // the publish allowlist takes part in the fingerprint too
  const c = filter(['1.2.3.4'], ['evil.example']);
  await run({ publish: check(c), publishVersion: c.fingerprint });
  assert.deepEqual(
    sink.calls.at(-1),
    { op: 'remove', keys: ['1.2.3.4', 'evil.example'] },
    'every withheld value is withdrawn again (idempotent)',
  );
  assert.deepEqual([...sink.held.keys()], ['5.6.7.8']);
  assert.equal(await store.getCursor(sinkCursorName('fake')), String(await store.head()));
});

test('the withdrawal pass fails like a push (the cursor of the filter stays) and is repeated by the next run', async (t) => {
  const { sink, run, put, store } = await setup(t);
  await put(['1.2.3.4', '5.6.7.8'].map((v) => ind(v)));
  const a = filter([]);
  await run({ publish: check(a), publishVersion: a.fingerprint });
  const b = filter(['5.6.7.8']);
  sink.script.push(() => new Error('connection reset'));
  await assert.rejects(
    run({
      publish: check(b),
      publishVersion: b.fingerprint,
      config: config({ retry: { max_attempts: 1, base_delay_secs: 0.001, max_delay_secs: 0.001 } }),
    }),
  );
  assert.equal(await store.getCursor(sinkPublishName('fake')), a.fingerprint);
  assert.ok(sink.held.has('5.6.7.8'));
  await run({ publish: check(b), publishVersion: b.fingerprint });
  assert.ok(!sink.held.has('5.6.7.8'));
  assert.equal(await store.getCursor(sinkPublishName('fake')), b.fingerprint);
});
