import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { cronMinGapMs, Scheduler, validateSchedule } from '../../src/pipeline/scheduler.js';
import { StixgateError } from '../../src/core/errors.js';
import { must } from '../helpers/must.js';

test('validateSchedule: cron syntax, minimum interval, time zone', () => {
  assert.equal(validateSchedule({ schedule: '*/5 * * * *' }), undefined);
  assert.equal(validateSchedule({ schedule: '0 3 * * 1-5', timezone: 'Europe/Berlin' }), undefined);
  assert.equal(validateSchedule({ intervalMs: 3_600_000 }), undefined);
  assert.equal(validateSchedule({}), undefined);
  assert.match(validateSchedule({ schedule: '61 * * * *' }) ?? '', /^invalid cron expression "61 \* \* \* \*": /);
  assert.match(validateSchedule({ schedule: 'every day' }) ?? '', /^invalid cron expression/);
  assert.equal(
    validateSchedule({ schedule: '* * * * * *' }),
    'cron expression "* * * * * *" fires every 1 s, more often than the minimum of 60 s',
  );
  assert.equal(
    validateSchedule({ schedule: '*/30 * * * * *' }),
    'cron expression "*/30 * * * * *" fires every 30 s, more often than the minimum of 60 s',
  );
  assert.equal(
    validateSchedule({ schedule: '*/2 * * * *', minIntervalMs: 300_000 }),
    'cron expression "*/2 * * * *" fires every 120 s, more often than the minimum of 300 s',
  );
  assert.equal(validateSchedule({ schedule: '*/30 * * * * *' }, { minIntervalMs: 30_000 }), undefined);
  assert.equal(validateSchedule({ intervalMs: 1000 }), 'interval of 1 s is shorter than the minimum of 60 s');
  assert.equal(validateSchedule({ intervalMs: -5 }), 'interval must be a positive number of seconds');
  assert.equal(
    validateSchedule({ schedule: '0 * * * *', timezone: 'Mars/Olympus' }),
    'unknown time zone "Mars/Olympus" (use an IANA name such as Europe/Berlin or UTC)',
  );
  assert.equal(
    validateSchedule({ schedule: '0 * * * *', intervalMs: 60_000 }),
    'set either a cron schedule or an interval, not both',
  );
  assert.equal(cronMinGapMs('0 0,12 * * *'), 12 * 3_600_000);
  assert.equal(cronMinGapMs('0 23,1 * * *'), 2 * 3_600_000);
  assert.equal(cronMinGapMs('0 0 * * *'), 86_400_000);
  assert.equal(cronMinGapMs('15,45 * * * *'), 30 * 60_000);
});

/** A fake clock for the scheduler: timers, setImmediate and Date advance only when the test says so. */
function fakeClock(t: TestContext) {
  t.mock.timers.enable({ apis: ['setTimeout', 'setImmediate', 'Date'], now: 1_800_000_000_000 });
  const settle = async () => {
    for (let i = 0; i < 10; i++) await Promise.resolve();
  };
  return {
    settle,
    /** Runs what is due now (setImmediate callbacks such as runOnStart). */
    async flush() {
      t.mock.timers.tick(0);
      await settle();
    },
    /** Moves the clock `ms` forward in steps of `step` ms, letting promise chains settle after each. */
    async advance(ms: number, step = 1) {
      for (let done = 0; done < ms; done += step) {
        t.mock.timers.tick(Math.min(step, ms - done));
        await settle();
      }
    },
  };
}

test('interval jobs run on their period; runOnStart; status (fake clock)', async (t) => {
  const clock = fakeClock(t);
  const s = new Scheduler();
  let runs = 0;
  s.add('a', { intervalMs: 50, runOnStart: true }, async () => void runs++);
  assert.throws(() => s.add('a', { intervalMs: 50 }, async () => undefined), /already added/);
  assert.throws(
    () => s.add('bad', { schedule: 'nope' }, async () => undefined),
    (e: StixgateError) => e.code === 'STIXGATE_ERR_CONFIG_INVALID',
  );
  s.start();
  await clock.flush();
  await clock.advance(1);
  assert.equal(runs, 1, 'runOnStart runs once at start');
  await clock.advance(48);
  assert.equal(runs, 1, 'no tick before the period');
  await clock.advance(1);
  assert.equal(runs, 2, 'first tick at 50 ms');
  await clock.advance(250);
  assert.equal(runs, 7, 'one run per 50 ms');
  const stopped = s.stop(100);
  await clock.advance(100, 10);
  await stopped;
  const st = s.status('a');
  assert.equal(st.running, false);
  assert.equal(st.consecutiveFailures, 0);
  assert.equal(st.lastError, undefined);
  assert.ok(must(st.lastStart, 'st.lastStart') <= must(st.lastEnd, 'st.lastEnd'));
  assert.equal(st.nextRun, undefined);
  await clock.advance(500, 10);
  assert.equal(runs, 7, 'no tick after stop');
});

test('P7: a run outlasting its interval is never doubled; overlaps reported (fake clock)', async (t) => {
  const clock = fakeClock(t);
  const overlaps: string[] = [];
  const s = new Scheduler({ onOverlap: (id) => void overlaps.push(id) });
  let active = 0;
  let maxActive = 0;
  let runs = 0;
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  s.add('slow', { intervalMs: 20 }, async () => {
    runs++;
    active++;
    maxActive = Math.max(maxActive, active);
    await gate;
    active--;
  });
  s.start();
  await clock.flush();
  await clock.advance(20);
  assert.equal(runs, 1);
  await clock.advance(60);
  assert.deepEqual(overlaps, ['slow', 'slow', 'slow'], 'the three ticks during the run are skipped and reported');
  assert.equal(runs, 1, 'no second run while the first is going');
  release();
  await clock.settle();
  await clock.advance(20);
  assert.equal(runs, 2, 'the next tick after the run ends runs again');
  assert.equal(maxActive, 1);
  const stopped = s.stop(500);
  await clock.advance(500, 50);
  await stopped;
});

test('P9: throwing, rejecting and hanging jobs are isolated; watchdog aborts the hang (fake clock)', async (t) => {
  const clock = fakeClock(t);
  const errors: [string, unknown][] = [];
  const s = new Scheduler({ onError: (id, e) => void errors.push([id, e]) });
  let good = 0;
  let hangSignal: AbortSignal | undefined;
  s.add('sync_throw', { intervalMs: 60_000, runOnStart: true }, (() => {
    throw new Error('boom sync');
  }) as any);
  s.add('reject', { intervalMs: 60_000, runOnStart: true }, async () => {
    throw new Error('boom async');
  });
  s.add('hang', { intervalMs: 60_000, runOnStart: true, timeoutMs: 100 }, (signal) => {
    hangSignal = signal;
    return new Promise(() => undefined);
  });
  s.add('good', { intervalMs: 30 }, async () => void good++);
  s.start();
  await clock.flush();
  await clock.advance(99);
  assert.equal(hangSignal?.aborted, false, 'the watchdog waits its timeout');
  assert.equal(errors.length, 2);
  await clock.advance(151);
  const byId = Object.fromEntries(errors.map(([id, e]) => [id, e as Error]));
  assert.equal(must(byId.sync_throw, 'byId.sync_throw').message, 'boom sync');
  assert.equal(must(byId.reject, 'byId.reject').message, 'boom async');
  assert.ok(byId.hang instanceof StixgateError);
  assert.equal((byId.hang as StixgateError).code, 'STIXGATE_ERR_JOB_TIMEOUT');
  assert.equal(hangSignal?.aborted, true);
  assert.equal(errors.length, 3);
  assert.equal(good, 8, 'the good job kept its period (250 ms / 30 ms)');
  assert.equal(s.status('hang').running, false);
  assert.equal(s.status('hang').consecutiveFailures, 1);
  assert.equal(s.status('reject').lastError, 'boom async');
  const stopped = s.stop(100);
  await clock.advance(100, 10);
  await stopped;
});

test('runNow, pause and resume (fake clock)', async (t) => {
  const clock = fakeClock(t);
  const s = new Scheduler({ onError: () => undefined });
  let runs = 0;
  let release!: () => void;
  s.add('j', { intervalMs: 40 }, () => {
    runs++;
    return new Promise<void>((r) => (release = r));
  });
  s.add('f', {}, async () => {
    throw new Error('manual failure');
  });
  s.pause('j');
  s.start();
  await clock.flush();
  await clock.advance(130);
  assert.equal(runs, 0, 'a paused job does not run');
  const p = s.runNow('j');
  assert.equal(s.status('j').running, true);
  await clock.settle();
  assert.equal(runs, 1);
  await assert.rejects(s.runNow('j'), /already running/);
  release();
  await p;
  await assert.rejects(s.runNow('f'), /manual failure/);
  assert.equal(s.status('f').consecutiveFailures, 1);
  assert.throws(() => s.runNow('nope'), /unknown job/);
  s.resume('j');
  await clock.advance(40);
  assert.equal(runs, 2, 'the next tick after resume runs');
  release();
  const stopped = s.stop(100);
  await clock.advance(100, 10);
  await stopped;
});

test('N6: deferUntil holds the job until the deadline; the next tick after it runs (fake clock)', async (t) => {
  const clock = fakeClock(t);
  const s = new Scheduler();
  const starts: number[] = [];
  s.add('j', { intervalMs: 30 }, async () => void starts.push(Date.now()));
  const t0 = Date.now();
  const deadline = t0 + 250;
  s.deferUntil('j', deadline);
  s.start();
  await clock.flush();
  await clock.advance(249);
  assert.deepEqual(starts, [], 'no run before the deadline');
  await clock.advance(81);
  assert.deepEqual(
    starts,
    [t0 + 270, t0 + 300, t0 + 330],
    'the first tick after the deadline (270 ms) runs, then the period',
  );
  assert.equal(s.status('j').deferredUntil, undefined);
  const stopped = s.stop(100);
  await clock.advance(100, 10);
  await stopped;
});

test('a retryable error with retryAfterMs defers the job by itself (fake clock)', async (t) => {
  const clock = fakeClock(t);
  const s = new Scheduler({ onError: () => undefined });
  const starts: number[] = [];
  s.add('j', { intervalMs: 30, runOnStart: true }, async () => {
    starts.push(Date.now());
    if (starts.length === 1)
      throw new StixgateError('STIXGATE_ERR_HTTP_STATUS', '429', {
        retryable: true,
        retryAfterMs: 200,
        reason: 'status_429',
      });
  });
  const t0 = Date.now();
  s.start();
  await clock.flush();
  await clock.advance(100);
  assert.deepEqual(starts, [t0]);
  assert.equal(s.status('j').deferredUntil, t0 + 200);
  await clock.advance(110);
  assert.deepEqual(starts, [t0, t0 + 210], 'the first tick at or after Retry-After runs');
  const stopped = s.stop(100);
  await clock.advance(100, 10);
  await stopped;
});

test('N7: consecutive failures back off exponentially (capped) and reset on success (fake clock)', async (t) => {
  const clock = fakeClock(t);
  let fail = true;
  const s = new Scheduler({ onError: () => undefined, maxBackoffMs: 320 });
  const starts: number[] = [];
  s.add('j', { intervalMs: 40, runOnStart: true }, async () => {
    starts.push(Date.now());
    if (fail) throw new Error('503');
  });
  const t0 = Date.now();
  s.start();
  await clock.flush();
  await clock.advance(1300);
  // windows 80, 160, 320 (capped), 320, ...; without back-off it would be a run every 40 ms
  const gaps = starts.slice(1).map((x, i) => x - must(starts[i], 'starts[i]'));
  assert.equal(starts[0], t0);
  assert.deepEqual(gaps, [80, 160, 320, 320, 320], `gaps ${gaps}`);
  assert.equal(s.status('j').consecutiveFailures, starts.length);
  fail = false;
  await clock.advance(400);
  assert.equal(s.status('j').consecutiveFailures, 0);
  const n = starts.length;
  await clock.advance(200);
  assert.equal(starts.length - n, 5, 'back to the normal 40 ms period after a success');
  const stopped = s.stop(100);
  await clock.advance(100, 10);
  await stopped;
});

test('P4: stop() ends ticks at once, aborts in-flight runs after the grace period (fake clock)', async (t) => {
  const clock = fakeClock(t);
  const s = new Scheduler({ onError: () => undefined });
  let aborted: unknown;
  let starts = 0;
  s.add('long', { intervalMs: 30, runOnStart: true }, (signal) => {
    starts++;
    return new Promise<void>((_, reject) =>
      signal.addEventListener('abort', () => {
        aborted = signal.reason;
        reject(signal.reason);
      }),
    );
  });
  let quickDone = false;
  s.add('quick', { intervalMs: 60_000, runOnStart: true }, async (signal) => {
    await new Promise((r) => setTimeout(r, 60));
    quickDone = !signal.aborted;
  });
  s.start();
  await clock.flush();
  await clock.advance(20);
  let report: unknown;
  const stopped = s.stop(200).then((r) => (report = r));
  await clock.advance(149);
  assert.equal(report, undefined, 'in-flight runs keep three quarters of the grace');
  assert.equal(typeof aborted, 'undefined', 'no run aborted before three quarters of the grace');
  await clock.advance(1);
  await stopped;
  assert.deepEqual(report, { aborted: ['long'] });
  assert.ok(aborted instanceof StixgateError);
  assert.equal((aborted as StixgateError).code, 'STIXGATE_ERR_JOB_ABORTED');
  assert.equal(quickDone, true, 'a run that finished within the grace was not aborted');
  assert.equal(starts, 1);
  await clock.advance(200, 10);
  assert.equal(starts, 1, 'no tick after stop');
  await assert.rejects(s.runNow('quick'), (e: StixgateError) => e.code === 'STIXGATE_ERR_JOB_ABORTED');
});

test('P4: a run that ignores its abort ends at three quarters of the grace; stop() returns then, reporting it (fake clock)', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const s = new Scheduler({ onError: () => undefined });
  let signal: AbortSignal | undefined;
  s.add('stuck', { intervalMs: 3_600_000 }, (sig) => {
    signal = sig;
    return new Promise<void>(() => undefined); // never settles, abort or not
  });
  s.add('idle', { intervalMs: 3_600_000 }, async () => undefined);
  s.start();
  void s.runNow('stuck').catch(() => undefined);
  let report: unknown;
  const stopped = s.stop(8000).then((r) => (report = r));
  const settle = async () => {
    for (let i = 0; i < 5; i++) await Promise.resolve();
  };
  await settle();
  t.mock.timers.tick(5999);
  await settle();
  assert.equal(signal?.aborted, false, 'the run keeps the first three quarters of the grace');
  t.mock.timers.tick(1);
  await settle();
  assert.equal(signal?.aborted, true, 'aborted at three quarters of the grace');
  assert.equal((signal?.reason as StixgateError | undefined)?.reason, 'shutdown');
  await stopped;
  assert.deepEqual(report, { aborted: ['stuck'] });
  assert.equal(s.status('stuck').running, false);
});

test('P6: clock steps on an interval job: +1 h gives one run (no catch-up burst), -1 h neither spins nor stops the job (fake clock)', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
  let step = 0;
  const s = new Scheduler({ now: () => Date.now() + step, onError: () => undefined });
  let runs = 0;
  s.add('j', { intervalMs: 60_000 }, async () => {
    runs++;
  });
  s.start();
  t.after(() => s.stop(0));
  const minute = async () => {
    t.mock.timers.tick(60_000);
    for (let i = 0; i < 5; i++) await Promise.resolve();
  };
  await minute();
  assert.equal(runs, 1);
  step += 3_600_000; // the wall clock jumps an hour ahead
  await minute();
  assert.equal(runs, 2, 'one run after the jump, not sixty');
  await minute();
  assert.equal(runs, 3);
  step -= 2 * 3_600_000; // and back, an hour behind where it started
  await minute();
  await minute();
  await minute();
  assert.equal(runs, 6, 'runs go on every period after the clock went back');
  assert.equal(s.status('j').nextRun, Date.now() + step + 60_000);
});

test('cron jobs: UTC by default, time zones honoured, every-second tick runs (fake clock)', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: Date.parse('2027-06-01T10:00:00.500Z') });
  const s = new Scheduler();
  let ticks = 0;
  s.add('utc', { schedule: '0 0 * * *' }, async () => undefined);
  s.add('tokyo', { schedule: '0 0 * * *', timezone: 'Asia/Tokyo' }, async () => undefined);
  s.add('sec', { schedule: '* * * * * *' }, async () => void ticks++);
  s.start();
  try {
    const utc = must(s.status('utc').nextRun, "s.status('utc').nextRun");
    const tokyo = must(s.status('tokyo').nextRun, "s.status('tokyo').nextRun");
    assert.equal(utc % 86_400_000, 0); // TZ=Asia/Kolkata in tests: still UTC midnight
    assert.equal(tokyo % 86_400_000, 15 * 3_600_000); // Tokyo midnight = 15:00 UTC
    assert.ok(utc > Date.now() && utc - Date.now() <= 86_400_000);
    assert.equal(ticks, 0, 'nothing runs before the first second boundary');
    // three seconds on the fake clock (node-cron's timers and Date): one run per second
    for (let i = 0; i < 3; i++) {
      t.mock.timers.tick(1000);
      for (let k = 0; k < 10; k++) await Promise.resolve();
    }
    assert.equal(ticks, 3, 'the every-second cron job ran once a second');
  } finally {
    await s.stop(0); // also when an assertion fails: a live cron task would keep the file running forever
  }
});
