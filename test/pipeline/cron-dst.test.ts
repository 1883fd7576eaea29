import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { Scheduler } from '../../src/pipeline/scheduler.js';
import { must } from '../helpers/must.js';

/**
 * FAULTS P6 for cron schedules: DST transitions in five zones and wall-clock steps, on a fake
 * clock (node:test mock timers drive node-cron's timers and Date). The behaviour asserted here is
 * the one documented in docs/operating.md ("Schedules, time zones and clock changes"):
 * - a daily run at a local time that does not exist (spring forward) is skipped that day;
 * - a daily run at a local time that occurs twice (fall back) runs once;
 * - an hourly job runs every elapsed hour at spring forward, and skips the repeated hour at fall back;
 * - UTC schedules are unaffected; no tick loop spins (a spin would never let `tick` return).
 */

const HOUR = 3_600_000;

interface Transition {
  zone: string;
  /** UTC instant of the change. */
  at: string;
  kind: 'spring' | 'fall';
  /** A local HH:MM that is skipped (spring) or repeated (fall) on that day. */
  local: string;
}

const TRANSITIONS: Transition[] = [
  { zone: 'Europe/Berlin', at: '2027-03-28T01:00:00Z', kind: 'spring', local: '02:30' },
  { zone: 'Europe/Berlin', at: '2027-10-31T01:00:00Z', kind: 'fall', local: '02:30' },
  { zone: 'Europe/London', at: '2027-03-28T01:00:00Z', kind: 'spring', local: '01:30' },
  { zone: 'Europe/London', at: '2027-10-31T01:00:00Z', kind: 'fall', local: '01:30' },
  { zone: 'America/New_York', at: '2027-03-14T07:00:00Z', kind: 'spring', local: '02:30' },
  { zone: 'America/New_York', at: '2027-11-07T06:00:00Z', kind: 'fall', local: '01:30' },
  { zone: 'Australia/Sydney', at: '2027-10-02T16:00:00Z', kind: 'spring', local: '02:30' },
  { zone: 'Australia/Sydney', at: '2027-04-03T16:00:00Z', kind: 'fall', local: '02:30' },
  { zone: 'Pacific/Auckland', at: '2027-09-25T14:00:00Z', kind: 'spring', local: '02:30' },
  { zone: 'Pacific/Auckland', at: '2027-04-03T14:00:00Z', kind: 'fall', local: '02:30' },
];

const localDay = (ms: number, zone: string) => new Date(ms).toLocaleDateString('sv-SE', { timeZone: zone });
const localTime = (ms: number, zone: string) =>
  new Date(ms).toLocaleTimeString('sv-SE', { timeZone: zone, hour: '2-digit', minute: '2-digit' });

/** Advances the fake clock minute by minute, letting job promises settle between minutes. */
async function run(t: TestContext, minutes: number): Promise<void> {
  for (let m = 0; m < minutes; m++) {
    t.mock.timers.tick(60_000);
    for (let i = 0; i < 5; i++) await Promise.resolve();
  }
}

for (const tr of TRANSITIONS) {
  test(`P6: cron across ${tr.kind === 'spring' ? 'spring forward' : 'fall back'} in ${tr.zone} (fake clock): documented missed/single runs, UTC unaffected`, async (t) => {
    const at = Date.parse(tr.at);
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: at - 24 * HOUR });
    const s = new Scheduler({ onError: () => undefined });
    const runs: Record<string, number[]> = { daily: [], hourly: [], utcHourly: [], utcDaily: [] };
    const [hh, mm] = tr.local.split(':').map(Number);
    s.add(
      'daily',
      { schedule: `${mm} ${hh} * * *`, timezone: tr.zone },
      async () => void must(runs.daily, 'runs.daily').push(Date.now()),
    );
    s.add(
      'hourly',
      { schedule: '0 * * * *', timezone: tr.zone },
      async () => void must(runs.hourly, 'runs.hourly').push(Date.now()),
    );
    s.add(
      'utcHourly',
      { schedule: '0 * * * *' },
      async () => void must(runs.utcHourly, 'runs.utcHourly').push(Date.now()),
    );
    s.add(
      'utcDaily',
      { schedule: '15 4 * * *' },
      async () => void must(runs.utcDaily, 'runs.utcDaily').push(Date.now()),
    );
    s.start();
    t.after(() => s.stop(0));
    await run(t, 60 * 60);

    const transitionDay = localDay(at, tr.zone);
    const daily = must(runs.daily, 'runs.daily').map((ms) => [localDay(ms, tr.zone), localTime(ms, tr.zone)]);
    assert.ok(
      daily.every(([, time]) => time === tr.local),
      JSON.stringify(daily),
    );
    const onTransitionDay = daily.filter(([day]) => day === transitionDay).length;
    assert.equal(
      onTransitionDay,
      tr.kind === 'spring' ? 0 : 1,
      `${tr.local} on ${transitionDay}: ${JSON.stringify(daily)}`,
    );
    assert.equal(new Set(daily.map(([day]) => day)).size, daily.length, 'never twice on one local day');
    // the day after the change the job runs again, at its local time
    const nextDay = localDay(at + 24 * HOUR, tr.zone);
    assert.ok(
      daily.some(([day]) => day === nextDay),
      `runs again on ${nextDay}: ${JSON.stringify(daily)}`,
    );

    // hourly in the zone: every elapsed hour at spring forward, the repeated hour skipped at fall back
    assert.equal(must(runs.hourly, 'runs.hourly').length, tr.kind === 'spring' ? 60 : 59);
    for (let i = 1; i < must(runs.hourly, 'runs.hourly').length; i++)
      assert.ok(
        must(must(runs.hourly, 'runs.hourly')[i], 'runs.hourly[i]') -
          must(must(runs.hourly, 'runs.hourly')[i - 1], 'runs.hourly[i - 1]') >=
          HOUR,
        'never two runs within an hour',
      );
    // UTC schedules do not see the change
    assert.equal(must(runs.utcHourly, 'runs.utcHourly').length, 60);
    assert.ok(must(runs.utcHourly, 'runs.utcHourly').every((ms) => ms % HOUR === 0));
    assert.ok(
      must(runs.utcDaily, 'runs.utcDaily').length >= 2 &&
        must(runs.utcDaily, 'runs.utcDaily').every((ms) => new Date(ms).toISOString().slice(11, 16) === '04:15'),
    );
    assert.equal(
      new Set(must(runs.utcDaily, 'runs.utcDaily').map((ms) => new Date(ms).toISOString().slice(0, 10))).size,
      must(runs.utcDaily, 'runs.utcDaily').length,
    );
  });
}

test('P6: wall-clock steps on cron jobs: +1 h drops the missed slots (no burst), -1 h waits for the next slot (no repeat, no spin)', async (t) => {
  const start = Date.parse('2027-06-01T10:00:00Z');
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: start });
  const s = new Scheduler({ onError: () => undefined });
  const runs: number[] = [];
  s.add('j', { schedule: '*/5 * * * *' }, async () => void runs.push(Date.now()));
  s.start();
  t.after(() => s.stop(0));
  await run(t, 10); // 10:05, 10:10
  assert.equal(runs.length, 2);
  t.mock.timers.setTime(Date.now() + HOUR); // NTP step an hour ahead: 11:10:30
  await run(t, 10); // 12 slots were skipped: at most the current one runs, then 11:15, 11:20
  assert.ok(runs.length <= 2 + 3, `no catch-up burst: ${runs.length - 2} runs after the step`);
  assert.ok(runs.length >= 2 + 2, 'the job goes on after the step');
  const before = runs.length;
  const last = must(runs[runs.length - 1], 'runs[runs.length - 1]');
  t.mock.timers.setTime(Date.now() - HOUR); // back an hour: 10:20:30
  await run(t, 70);
  // slots that already ran are not repeated: every run after the step back is later than the last run before it
  const after = runs.slice(before);
  assert.ok(after.length > 0, 'the job goes on after the step back');
  assert.ok(
    after.every((ms) => ms > last),
    JSON.stringify(after.map((ms) => new Date(ms).toISOString())),
  );
  assert.equal(
    new Date(must(after[0], 'after[0]')).toISOString().slice(11, 16),
    '11:25',
    'the first run after the step back is the next slot not yet run',
  );
});

test('P6: a cron slot reached late (event loop blocked, loaded host) still runs, once', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: Date.parse('2027-06-01T10:00:00Z') });
  const s = new Scheduler({ onError: () => undefined });
  const runs: string[] = [];
  s.add('j', { schedule: '*/5 * * * *' }, async () => void runs.push(new Date().toISOString().slice(11, 19)));
  s.start();
  t.after(() => s.stop(0));
  // each timer fires 20 s after its slot, as when a long parse holds the event loop
  for (let slot = 1; slot <= 3; slot++) {
    t.mock.timers.tick(5 * 60_000 + (slot === 1 ? 20_000 : 0));
    for (let i = 0; i < 5; i++) await Promise.resolve();
  }
  assert.deepEqual(runs, ['10:05:20', '10:10:20', '10:15:20']);
});
