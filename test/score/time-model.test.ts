/**
 * The time model (docs/scoring.md §2.1): the dates a record carries drive its age in the same
 * way for every format; undated records are seen at the source's poll time; a record dated in the
 * future counts as seen at the poll time. Each format runs through the real source, the runner
 * and an embedded store with decay, under a fixed clock.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { openEmbeddedStore } from '../../src/store/embedded/index.js';
import { recordSeenAt, stixRecordTime } from '../../src/score/record-time.js';
import type { StixObject } from '../../src/core/stix.js';
import { DAY, STANDARD, iso } from './helpers.js';
import { must } from '../helpers/must.js';
import { runComponent, sourceComponent } from '../helpers/source-harness.js';

const dir = mkdtempSync(join(tmpdir(), 'stixgate-time-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

const POLL = Date.parse('2026-06-01T00:00:00.000Z');
const OLD = '2026-03-03T00:00:00.000Z'; // 90 days before the poll

function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return pathToFileURL(p).href;
}

/** Runs one source over `url` at each time in `polls` into one store; returns the stored indicators. */
async function ingest(options: Record<string, unknown>, polls: number[]): Promise<StixObject[]> {
  const comp = sourceComponent('t', { tlp: 'clear', allow_private: true, ...options }, { configDir: dir });
  const data = mkdtempSync(join(dir, 'store-'));
  const store = await openEmbeddedStore({ dataDir: data, scoring: STANDARD() });
  try {
    for (const now of polls) await runComponent(comp, store, now);
    return (await store.query({ type: 'indicator', includeRevoked: true, limit: 100 })).objects;
  } finally {
    await comp.http.close();
    await store.close();
  }
}

const seen = (o: StixObject) => must(o.x_stixgate, 'o.x_stixgate').sources.t;

test('stix_bundle: an indicator is as old as its modified time, and re-polling the same bundle does not refresh it', async () => {
  const bundle = {
    type: 'bundle',
    id: 'bundle--6f1c1a52-3b0c-4c44-9d2e-1e0f4e6f7a01',
    objects: [
      {
        type: 'indicator',
        spec_version: '2.1',
        id: 'indicator--6f1c1a52-3b0c-4c44-9d2e-1e0f4e6f7a02',
        created: '2026-02-01T00:00:00.000Z',
        modified: OLD,
        valid_from: '2026-02-01T00:00:00.000Z',
        pattern: "[ipv4-addr:value = '198.51.100.7']",
        pattern_type: 'stix',
        indicator_types: ['malicious-activity'],
      },
    ],
  };
  const [ind] = await ingest({ type: 'stix_bundle', url: file('b.json', JSON.stringify(bundle)) }, [
    POLL,
    POLL + 10 * DAY,
  ]);
  assert.equal(must(seen(must(ind, 'ind')), 'seen(ind)').first_seen, OLD);
  assert.equal(
    must(seen(must(ind, 'ind')), 'seen(ind)').last_seen,
    OLD,
    'a re-poll of an unchanged bundle is not a new sighting',
  );
  // 90 days with a 7-day half-life: expired at ingest, its derived valid_until is in the past
  assert.ok(must(must(must(ind, 'ind').x_stixgate, 'ind.x_stixgate').score, 'ind.x_stixgate.score') < 20);
  assert.ok(Date.parse(must(ind, 'ind').valid_until as string) < POLL);
});

test('text_list: an undated value is seen at each poll (it stays fresh while the list carries it)', async () => {
  const [ind] = await ingest({ type: 'text_list', url: file('l.txt', '198.51.100.7\n') }, [POLL, POLL + 10 * DAY]);
  assert.equal(must(seen(must(ind, 'ind')), 'seen(ind)').first_seen, iso(POLL));
  assert.equal(must(seen(must(ind, 'ind')), 'seen(ind)').last_seen, iso(POLL + 10 * DAY));
});

test('text_list: an unchanged list is read again only once its last read is a day old', async () => {
  const [ind] = await ingest({ type: 'text_list', url: file('l2.txt', '198.51.100.9\n') }, [
    POLL,
    POLL + 2 * 3_600_000,
  ]);
  // read again after two hours, the value would have moved past the one-hour seen granularity
  assert.equal(must(seen(must(ind, 'ind')), 'seen(ind)').last_seen, iso(POLL));
});

test('csv: a row dated only by its first_seen column is as old as that date', async () => {
  const url = file('sslbl.csv', `# Firstseen,DstIP,DstPort\n${OLD.slice(0, 10)} 00:00:00,198.51.100.7,443\n`);
  const [ind] = await ingest({ type: 'csv', url, mapping: 'sslbl_ip_firstseen' }, [POLL]);
  assert.equal(must(seen(must(ind, 'ind')), 'seen(ind)').last_seen, OLD);
  assert.ok(
    must(must(must(ind, 'ind').x_stixgate, 'ind.x_stixgate').score, 'ind.x_stixgate.score') < 20,
    'decays from the row date like the same value from any other format',
  );
});

test('a record dated after the poll counts as seen at the poll time', async () => {
  const future = iso(POLL + 365 * DAY);
  const url = file('future.csv', `# Firstseen,DstIP,DstPort\n${future.slice(0, 10)} 00:00:00,198.51.100.8,443\n`);
  const [ind] = await ingest({ type: 'csv', url, mapping: 'sslbl_ip_firstseen' }, [POLL]);
  assert.equal(must(seen(must(ind, 'ind')), 'seen(ind)').last_seen, iso(POLL));
});

test('recordSeenAt: the record time, the poll time when undated or unreadable, never after the poll', () => {
  assert.equal(recordSeenAt(OLD, POLL), OLD);
  assert.equal(recordSeenAt(undefined, POLL), undefined);
  assert.equal(recordSeenAt('not a date', POLL), undefined);
  assert.equal(recordSeenAt(iso(POLL + 1), POLL), iso(POLL));
});

test('stixRecordTime: the date each STIX type records its last observation in', () => {
  const base = { id: 'x--1', spec_version: '2.1', created: '2026-01-01T00:00:00Z', modified: '2026-01-02T00:00:00Z' };
  assert.equal(stixRecordTime({ ...base, type: 'indicator' }), '2026-01-02T00:00:00Z');
  assert.equal(
    stixRecordTime({ ...base, type: 'sighting', last_seen: '2026-01-05T00:00:00Z' }),
    '2026-01-05T00:00:00Z',
  );
  assert.equal(
    stixRecordTime({ ...base, type: 'observed-data', last_observed: '2026-01-04T00:00:00Z' }),
    '2026-01-04T00:00:00Z',
  );
  assert.equal(stixRecordTime({ id: 'ipv4-addr--1', type: 'ipv4-addr', value: '1.2.3.4' }), undefined);
});
