/**
 * The Store contract suite (DESIGN.md §3): every backend runs it unchanged.
 *   runStoreContract('embedded', async () => ({ store, cleanup }))
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { StixObject } from '../src/core/stix.js';
import type { IngestItem, Store } from '../src/store/contract.js';
import { compileScoring, type ScoreExtension } from '../src/score/model.js';
import { rescoreStore } from '../src/store/rescore.js';
import { defaultModels } from '../src/score/schema.js';
import { recordSightings, sightingId } from '../src/store/sightings.js';
import { DAY, HOUR, T0, clone, indicatorFor, ipFor, uuidFor } from './store/fixtures.js';
import { must } from './helpers/must.js';

export type StoreFactory = () => Promise<{ store: Store; cleanup: () => Promise<void> }>;

const TLP1_AMBER = 'marking-definition--f88d31f6-486f-44da-b317-01333bde0b82';
const UNKNOWN_MARKING = 'marking-definition--00000000-1111-4222-8333-444444444444';

function item(object: StixObject, source = 'feed-a', extra: Partial<IngestItem> = {}): IngestItem {
  return { object: clone(object), source, ...extra };
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** IPv4 half-life 7 days, expiry below 20, step 5 (docs/scoring.md). */
const DECAY = compileScoring({
  default_confidence: 50,
  points_per_extra_source: 10,
  sighting_points: 5,
  max_sighting_points: 25,
  enrichment_weight: 0.4,
  expire_below: 20,
  step: 5,
  rescore_interval_secs: 3600,
  rescore_page_size: 1000,
  models: defaultModels(),
});

function permutations<T>(xs: T[]): T[][] {
  if (xs.length <= 1) return [xs];
  return xs.flatMap((x, i) => permutations([...xs.slice(0, i), ...xs.slice(i + 1)]).map((p) => [x, ...p]));
}

async function allChanges(store: Store, after = 0, page = 1000) {
  const out = [];
  for (;;) {
    const p = await store.changes(after, page);
    if (p.changes.length === 0) return out;
    out.push(...p.changes);
    after = p.next;
  }
}

/** Positions are opaque (ADR 0002, 0023): only their order counts, never their distance. */
function assertIncreasing(seqs: number[]): void {
  for (let i = 1; i < seqs.length; i++) {
    const [a, b] = [must(seqs[i - 1], 'seq'), must(seqs[i], 'seq')];
    assert.ok(b > a, `seq ${b} after ${a}`);
  }
}

export function runStoreContract(name: string, factory: StoreFactory): void {
  async function withStore(fn: (store: Store) => Promise<void>): Promise<void> {
    const { store, cleanup } = await factory();
    try {
      await fn(store);
    } finally {
      await cleanup();
    }
  }

  describe(`Store contract: ${name}`, () => {
    it('counts created, updated, unchanged, stale and rejected', () =>
      withStore(async (store) => {
        const a = indicatorFor(1);
        const b = indicatorFor(2);
        let r = await store.upsert([item(a), item(b)], { now: T0 });
        assert.deepEqual(r, { created: 2, updated: 0, unchanged: 0, stale: 0, rejected: [] });
        const a2 = { ...indicatorFor(1, { modified: T0 + DAY, name: 'renamed' }) };
        const aOld = {
          ...indicatorFor(1, { modified: T0 - DAY, name: 'older' }),
          created: iso(T0),
          valid_from: iso(T0),
        };
        r = await store.upsert(
          [item(a2), item(b), item(aOld), item({ type: 'indicator', id: 'malware--x' } as StixObject)],
          { now: T0 },
        );
        assert.equal(r.created, 0);
        assert.equal(r.updated, 1);
        assert.equal(r.unchanged, 1);
        assert.equal(r.stale, 1);
        assert.equal(r.rejected.length, 1);
        assert.equal(must(r.rejected[0], 'r.rejected[0]').reason, 'stix_invalid');
        assert.equal(must(r.rejected[0], 'r.rejected[0]').location?.index, 3);
        assert.equal((await store.get(a.id))?.name, 'renamed');
        assert.equal(await store.get('indicator--00000000-0000-4000-8000-00000000dead'), undefined);
        // getEntry: the object with the seq of its last change in the log
        const log = (await store.changes(0, 100)).changes;
        const entry = await store.getEntry(a.id);
        assert.deepEqual(entry, {
          object: await store.get(a.id),
          seq: must(log.filter((c) => c.id === a.id).at(-1), 'log.filter((c) => c.id === a.id).at(-1)').seq,
        });
        assert.equal(must(entry, 'entry').seq, Math.max(...log.map((c) => c.seq)), 'a was changed last');
        assert.equal(
          must(await store.getEntry(b.id), '(await store.getEntry(b.id))').seq,
          must(
            log.find((c) => c.id === b.id),
            'log.find((c) => c.id === b.id)',
          ).seq,
        );
        assert.equal(await store.getEntry('indicator--00000000-0000-4000-8000-00000000dead'), undefined);
        const many = await store.getMany([a.id, b.id, 'indicator--nope']);
        assert.deepEqual([...many.keys()].sort(), [a.id, b.id].sort());
      }));

    it('re-upserting the same batch writes nothing (head unchanged, no change entries)', () =>
      withStore(async (store) => {
        const batch = Array.from({ length: 50 }, (_, i) =>
          item(indicatorFor(i, { validUntil: T0 + 30 * DAY }), 'feed-a', { confidence: 70 }),
        );
        await store.upsert(batch, { now: T0 });
        const head = await store.head();
        assert.equal((await allChanges(store)).length, 50);
        assert.equal((await allChanges(store)).at(-1)?.seq, head);
        const before = await store.getMany(batch.map((x) => x.object.id));
        // a later poll within the seen granularity, with new created/modified stamps and a
        // valid_until moved by less than the granularity: still nothing to write
        const repoll = Array.from({ length: 50 }, (_, i) =>
          item(
            {
              ...indicatorFor(i, { modified: T0 + 20 * 60_000, validUntil: T0 + 30 * DAY + 20 * 60_000 }),
              valid_from: iso(T0),
            },
            'feed-a',
            { confidence: 70 },
          ),
        );
        for (const [now, list] of [
          [T0, batch],
          [T0 + 30 * 60_000, repoll],
          [T0 + 40 * 60_000, batch],
        ] as const) {
          const r = await store.upsert(
            list.map((x) => item(x.object, x.source, { confidence: 70 })),
            { now },
          );
          assert.deepEqual(r, { created: 0, updated: 0, unchanged: 50, stale: 0, rejected: [] });
        }
        assert.equal(await store.head(), head);
        assert.deepEqual((await store.changes(head, 100)).changes, []);
        assert.deepEqual(await store.getMany(batch.map((x) => x.object.id)), before);
        // past the granularity, last_seen moves: one write per object
        const r = await store.upsert(batch, { now: T0 + 2 * HOUR });
        assert.equal(r.updated, 50);
        const moved = await allChanges(store, head);
        assert.equal(moved.length, 50);
        assert.equal(await store.head(), moved.at(-1)?.seq);
        const o = await store.get(must(batch[0], 'batch[0]').object.id);
        assert.equal(o?.x_stixgate?.sources['feed-a']?.first_seen, iso(T0));
        assert.equal(o?.x_stixgate?.sources['feed-a'].last_seen, iso(T0 + 2 * HOUR));
        assert.equal(o?.modified, iso(T0));
      }));

    it('F15: out-of-order versions and equal-modified ties converge whatever the order', () =>
      withStore(async (store) => {
        const base = indicatorFor(7);
        const v1 = { ...base, modified: iso(T0 + 1 * HOUR), name: 'v1' };
        const v2 = { ...base, modified: iso(T0 + 2 * HOUR), name: 'v2-alpha' };
        const v3 = { ...base, modified: iso(T0 + 2 * HOUR), name: 'v2-beta', description: 'tie' };
        const vNewest = { ...base, modified: iso(T0 + 3 * HOUR), name: 'v3' };
        for (const [set, label] of [
          [[v1, v2, v3], 'tie'],
          [[v1, v2, vNewest], 'distinct'],
        ] as const) {
          const finals = new Set<string>();
          let k = 0;
          for (const perm of permutations([...set])) {
            const id = `indicator--${uuidFor(1000 + k++, label.length)}`;
            for (const v of perm) await store.upsert([item({ ...v, id }, 'feed-a', { seenAt: iso(T0) })], { now: T0 });
            const got = await store.get(id);
            assert.ok(got);
            const norm = { ...got, id: 'X' };
            finals.add(JSON.stringify(norm));
            if (label === 'distinct') assert.equal(got.name, 'v3');
            else {
              assert.equal(got.modified, iso(T0 + 2 * HOUR));
              // canonical content JSON: v2's starts {"id"…, v3's {"description"…, so v2's sorts larger
              assert.equal(got.name, 'v2-alpha');
            }
          }
          assert.equal(finals.size, 1, `${label}: all 6 orders must end in the same state`);
        }
      }));

    it('F16: revoked sticks; valid_until in the past expires with an expire change; re-seen later re-activates', () =>
      withStore(async (store) => {
        const rev = { ...indicatorFor(20, { modified: T0 }), revoked: true };
        const later = indicatorFor(20, { modified: T0 + DAY, name: 'not revoked any more?' });
        await store.upsert([item(rev)], { now: T0 });
        const r = await store.upsert([item(later)], { now: T0 });
        assert.equal(r.updated, 1);
        const got = await store.get(rev.id);
        assert.equal(got?.revoked, true);
        assert.equal(got?.name, 'not revoked any more?');
        let ch = await allChanges(store);
        assert.deepEqual(
          ch.map((c) => [c.id, c.op]),
          [[rev.id, 'revoke']],
        );

        const now = T0 + 10 * DAY;
        const old = indicatorFor(21, { validUntil: now - DAY });
        const fresh = indicatorFor(22, { validUntil: now + DAY });
        await store.upsert([item(old), item(fresh)], { now });
        const head = await store.head();
        assert.equal(await store.expire(now), 1);
        assert.equal(await store.expire(now), 0, 'expiring twice changes nothing');
        ch = await store.changes(head, 10).then((p) => p.changes);
        assert.equal(ch.length, 1);
        const first = must(ch[0], 'ch[0]');
        assert.equal(first.id, old.id);
        assert.equal(first.op, 'expire');
        assert.ok(first.seq > head);
        assert.equal(await store.head(), first.seq);
        assert.equal(first.object.x_stixgate?.expired, true);
        assert.equal((await store.stats()).expired, 1);
        // the same stale delivery again: still expired, nothing written
        const again = await store.upsert([item(old)], { now: now + 10 * 60_000 });
        assert.equal(again.unchanged, 1);
        assert.equal(await store.head(), first.seq);
        // seen again with a later valid_until: active again
        const renewed = indicatorFor(21, { modified: now, validUntil: now + 5 * DAY });
        assert.equal((await store.upsert([item(renewed)], { now: now + HOUR })).updated, 1);
        const back = await store.get(old.id);
        assert.equal(back?.x_stixgate?.expired, undefined);
        assert.equal(back?.valid_until, iso(now + 5 * DAY));
        const last = (await store.changes(head + 1, 10)).changes;
        assert.deepEqual(
          last.map((c) => [c.id, c.op]),
          [[old.id, 'upsert']],
        );
        assert.equal((await store.stats()).expired, 0);
      }));

    it('merges provenance of several sources: seen window, labels, confidence, score, a TLP per contribution', () =>
      withStore(async (store) => {
        const o = indicatorFor(30);
        await store.upsert(
          [item({ ...o, labels: ['b', 'a'] }, 'feed-a', { confidence: 40, tlp: 'green', seenAt: iso(T0 + HOUR) })],
          { now: T0 },
        );
        let got = await store.get(o.id);
        assert.equal(got?.object_marking_refs, undefined, 'no merged marking is written');
        assert.equal(got?.x_stixgate?.sources['feed-a']?.tlp, 'green');
        assert.equal(got?.x_stixgate?.score, 40);
        await store.upsert(
          [
            item({ ...o, object_marking_refs: [TLP1_AMBER], labels: ['c', 'a'] }, 'feed-b', {
              confidence: 80,
              seenAt: iso(T0 + 3 * HOUR),
            }),
          ],
          { now: T0 },
        );
        await store.upsert(
          [item({ ...o, labels: ['d'] }, 'feed-a', { confidence: 40, tlp: 'green', seenAt: iso(T0 - HOUR) })],
          { now: T0 },
        );
        await store.upsert(
          [item({ ...o, labels: ['b', 'a'] }, 'feed-a', { confidence: 40, tlp: 'green', seenAt: iso(T0 + 5 * HOUR) })],
          { now: T0 },
        );
        got = await store.get(o.id);
        const src = got?.x_stixgate?.sources;
        assert.deepEqual(Object.keys(src ?? {}).sort(), ['feed-a', 'feed-b']);
        assert.deepEqual(src?.['feed-a'], {
          first_seen: iso(T0 - HOUR),
          last_seen: iso(T0 + 5 * HOUR),
          confidence: 40,
          labels: ['a', 'b', 'd'],
          tlp: 'green',
        });
        assert.deepEqual(src?.['feed-b'], {
          first_seen: iso(T0 + 3 * HOUR),
          last_seen: iso(T0 + 3 * HOUR),
          confidence: 80,
          labels: ['a', 'c'],
          tlp: 'amber',
        });
        assert.equal(got?.x_stixgate?.score, 90);
        // an unknown marking from a third source fails closed to red for that contribution only
        await store.upsert([item({ ...o, object_marking_refs: [UNKNOWN_MARKING] }, 'feed-c', { seenAt: iso(T0) })], {
          now: T0,
        });
        got = await store.get(o.id);
        assert.equal(got?.x_stixgate?.sources['feed-c']?.tlp, 'red');
        assert.equal(got?.x_stixgate?.sources['feed-a']?.tlp, 'green');
        assert.equal(got?.x_stixgate?.sources['feed-b']?.tlp, 'amber');
        assert.equal(got?.x_stixgate?.score, 100);
        // a source re-marking its own contribution stricter keeps the level it was released at
        await store.upsert(
          [item({ ...o, labels: ['b', 'a'] }, 'feed-a', { confidence: 40, tlp: 'amber', seenAt: iso(T0 + 5 * HOUR) })],
          { now: T0 },
        );
        got = await store.get(o.id);
        assert.equal(got?.x_stixgate?.sources['feed-a']?.tlp, 'amber');
        assert.equal(got?.x_stixgate?.sources['feed-a'].released_tlp, 'green');
      }));

    it('commits cursors with the data, also when every item is unchanged or rejected', () =>
      withStore(async (store) => {
        assert.equal(await store.getCursor('feed-a'), undefined);
        await store.upsert([item(indicatorFor(40))], { now: T0, cursors: { 'feed-a': 'page-1', 'feed-b': 'x' } });
        assert.equal(await store.getCursor('feed-a'), 'page-1');
        assert.ok(await store.get(indicatorFor(40).id));
        await store.upsert([item(indicatorFor(40))], { now: T0, cursors: { 'feed-a': 'page-2' } });
        assert.equal(await store.getCursor('feed-a'), 'page-2');
        const r = await store.upsert([item({ type: 'indicator' } as StixObject)], {
          now: T0,
          cursors: { 'feed-a': 'page-3' },
        });
        assert.equal(r.rejected.length, 1);
        assert.equal(await store.getCursor('feed-a'), 'page-3');
        await store.setCursor('sink-1', '17');
        assert.equal(await store.getCursor('sink-1'), '17');
        assert.equal(await store.getCursor('feed-b'), 'x');
      }));

    it('changes come in seq order, page by page, compacted to the latest state', () =>
      withStore(async (store) => {
        const objs = Array.from({ length: 25 }, (_, i) => indicatorFor(100 + i));
        await store.upsert(
          objs.slice(0, 10).map((o) => item(o)),
          { now: T0 },
        );
        await store.upsert(
          objs.slice(10).map((o) => item(o)),
          { now: T0 },
        );
        const p1 = await store.changes(0, 10);
        assert.equal(p1.changes.length, 10);
        assertIncreasing(p1.changes.map((c) => c.seq));
        assert.equal(p1.next, must(p1.changes.at(-1), 'last of p1').seq);
        const all = await allChanges(store, 0, 7);
        assert.equal(all.length, 25);
        assertIncreasing(all.map((c) => c.seq));
        assert.deepEqual(
          all.slice(0, 10).map((c) => c.seq),
          p1.changes.map((c) => c.seq),
        );
        const last = must(all.at(-1), 'last change').seq;
        assert.equal(await store.head(), last);
        assert.deepEqual(new Set(all.map((c) => c.id)), new Set(objs.map((o) => o.id)));
        assert.ok(all.every((c) => c.op === 'upsert' && c.type === 'indicator' && c.object.id === c.id));
        const tail = await store.changes(last, 10);
        assert.deepEqual(tail, { changes: [], next: last });
        // an update moves the object to the head of the log; its old entry is compacted away
        await store.upsert([item({ ...must(objs[3], 'objs[3]'), modified: iso(T0 + DAY), name: 'new name' })], {
          now: T0,
        });
        const after = await store.changes(last, 10);
        assert.deepEqual(
          after.changes.map((c) => [c.seq, c.id, c.object.name]),
          [[await store.head(), must(objs[3], 'objs[3]').id, 'new name']],
        );
        assert.ok(must(after.changes[0], 'after[0]').seq > last);
        assert.equal((await allChanges(store)).length, 25);
      }));

    it('leases are exclusive, renewable, expire and are released only by their holder', () =>
      withStore(async (store) => {
        assert.equal(await store.acquireLease('job', 'A', 1000, T0), true);
        assert.equal(await store.acquireLease('job', 'B', 1000, T0 + 500), false);
        assert.equal(await store.acquireLease('job', 'A', 1000, T0 + 500), true); // renew to T0+1500
        assert.equal(await store.acquireLease('job', 'B', 1000, T0 + 1400), false);
        assert.equal(await store.acquireLease('other', 'B', 1000, T0 + 1400), true);
        assert.equal(await store.acquireLease('job', 'B', 1000, T0 + 1500), true); // expired
        await store.releaseLease('job', 'A'); // not the holder: no effect
        assert.equal(await store.acquireLease('job', 'A', 1000, T0 + 1600), false);
        await store.releaseLease('job', 'B');
        assert.equal(await store.acquireLease('job', 'A', 1000, T0 + 1700), true);
      }));

    it('queries by type, value, source, modified range, text and paginates', () =>
      withStore(async (store) => {
        const inds = Array.from({ length: 7 }, (_, i) => indicatorFor(200 + i, { modified: T0 + i * DAY }));
        const ip = { type: 'ipv4-addr', spec_version: '2.1', id: `ipv4-addr--${uuidFor(9)}`, value: ipFor(200) };
        const file = {
          type: 'file',
          spec_version: '2.1',
          id: `file--${uuidFor(10)}`,
          hashes: { 'SHA-256': 'AB'.repeat(32) },
        };
        const mal = {
          type: 'malware',
          spec_version: '2.1',
          id: `malware--${uuidFor(11)}`,
          created: iso(T0),
          modified: iso(T0),
          name: 'Evil_50%_Bot',
          is_family: true,
          description: 'spreads',
        };
        const mal2 = { ...mal, id: `malware--${uuidFor(12)}`, name: 'Evil-50x-Bot' };
        await store.upsert(
          inds.map((o) => item(o, 'feed-a')),
          { now: T0 },
        );
        await store.upsert(
          [
            item(ip, 'feed-b'),
            item(file, 'feed-b'),
            item(mal, 'feed-b'),
            item(mal2, 'feed-b'),
            item(must(inds[6], 'inds[6]'), 'feed-b'),
          ],
          { now: T0 },
        );
        await store.upsert([item({ ...must(inds[5], 'inds[5]'), modified: iso(T0 + 9 * DAY), revoked: true })], {
          now: T0,
        });

        const ids = (p: { objects: StixObject[] }) => p.objects.map((o) => o.id);
        assert.deepEqual(ids(await store.query({ type: 'malware' })), [mal.id, mal2.id]);
        assert.deepEqual(
          ids(await store.query({ value: ipFor(200) })).sort(),
          [must(inds[0], 'inds[0]').id, ip.id].sort(),
        );
        assert.deepEqual(ids(await store.query({ value: ipFor(200), type: 'ipv4-addr' })), [ip.id]);
        assert.deepEqual(ids(await store.query({ value: 'ab'.repeat(32) })), [file.id]);
        assert.deepEqual(ids(await store.query({ value: '192.0.2.1' })), []);
        assert.deepEqual(
          new Set(ids(await store.query({ source: 'feed-b' }))),
          new Set([ip.id, file.id, mal.id, mal2.id, must(inds[6], 'inds[6]').id]),
        );
        assert.deepEqual(
          ids(await store.query({ type: 'indicator', modifiedFrom: iso(T0 + DAY), modifiedTo: iso(T0 + 3 * DAY) })),
          [must(inds[1], 'inds[1]').id, must(inds[2], 'inds[2]').id, must(inds[3], 'inds[3]').id],
        );
        assert.deepEqual(
          ids(await store.query({ text: '50%_bot' })),
          [mal.id],
          '% and _ match literally, case-insensitively',
        );
        assert.deepEqual(ids(await store.query({ text: 'SPREADS' })), [mal.id, mal2.id]);
        assert.deepEqual(ids(await store.query({ text: `'${ipFor(203)}'` })), [must(inds[3], 'inds[3]').id]);
        assert.deepEqual(ids(await store.query({ type: 'indicator' })).length, 6, 'revoked excluded by default');
        assert.equal(ids(await store.query({ type: 'indicator', includeRevoked: true })).length, 7);

        const seen: string[] = [];
        let after: string | undefined;
        let pages = 0;
        do {
          const p = await store.query({ type: 'indicator', includeRevoked: true, limit: 3, after });
          assert.equal(p.positions?.length, p.objects.length);
          assert.ok(p.objects.length <= 3);
          seen.push(...ids(p));
          after = p.next;
          pages++;
        } while (after !== undefined);
        assert.equal(pages, 3);
        assert.deepEqual(seen.sort(), inds.map((o) => o.id).sort());
        // each object's position resumes right after it: the rest of the order, with no repeat
        const all = await store.query({ type: 'indicator', includeRevoked: true });
        assert.equal(all.positions?.length, 7);
        for (let i = 0; i < 7; i++) {
          const rest = await store.query({
            type: 'indicator',
            includeRevoked: true,
            after: must(all.positions, 'all.positions')[i],
          });
          assert.deepEqual(ids(rest), ids(all).slice(i + 1), `after position ${i}`);
        }
        assert.equal(
          must(all.positions, 'all.positions')[5],
          (await store.query({ type: 'indicator', includeRevoked: true, limit: 6 })).next,
          'a position has the form of next',
        );
      }));

    it('reports stats', () =>
      withStore(async (store) => {
        await store.upsert(
          [
            item(indicatorFor(1)),
            item(indicatorFor(2, { validUntil: T0 - DAY })),
            item({ ...indicatorFor(3), revoked: true }),
            item({ type: 'ipv4-addr', id: `ipv4-addr--${uuidFor(5)}`, value: '10.0.0.1' }),
          ],
          { now: T0, cursors: { 'feed-a': 'c1' } },
        );
        await store.expire(T0);
        const s = await store.stats();
        assert.equal(s.objects, 4);
        assert.deepEqual({ ...s.byType }, { indicator: 3, 'ipv4-addr': 1 });
        assert.equal(s.revoked, 1);
        assert.equal(s.expired, 1);
        assert.equal(s.changeLogHead, await store.head());
        assert.equal(
          s.changeLogHead,
          (await allChanges(store)).at(-1)?.seq,
          'the head is the last change (4 objects, one expired later)',
        );
        assert.equal((await allChanges(store)).length, 4);
        assert.deepEqual({ ...s.cursors }, { 'feed-a': 'c1' });
      }));

    it('F12: __proto__ and constructor keys are stored and read back as data, no pollution', () =>
      withStore(async (store) => {
        const protoNames = Object.getOwnPropertyNames(Object.prototype).sort();
        const text = `{"type":"malware","spec_version":"2.1","id":"malware--${uuidFor(77)}","created":"2024-01-01T00:00:00Z",
          "modified":"2024-01-01T00:00:00Z","name":"p","is_family":false,"__proto__":{"polluted":"yes"},
          "constructor":{"prototype":{"polluted2":"yes"}},"x_nested":{"a":[{"__proto__":{"polluted3":1}}]}}`;
        const obj = JSON.parse(text) as StixObject;
        const r = await store.upsert(
          [
            { object: obj, source: '__proto__', confidence: 10 },
            { object: JSON.parse(text) as StixObject, source: 'constructor' },
          ],
          { now: T0 },
        );
        assert.equal(r.created, 1);
        assert.equal(r.updated, 1);
        const got = await store.get(obj.id);
        assert.ok(got);
        assert.deepEqual(Object.getOwnPropertyDescriptor(got, '__proto__')?.value, { polluted: 'yes' });
        assert.deepEqual(got.constructor, { prototype: { polluted2: 'yes' } });
        assert.deepEqual(Object.keys(got.x_stixgate?.sources ?? {}).sort(), ['__proto__', 'constructor']);
        assert.equal(Object.getPrototypeOf(got.x_stixgate?.sources), Object.prototype);
        const q = await store.query({ type: 'malware', source: '__proto__' });
        assert.equal(q.objects.length, 1);
        assert.deepEqual(Object.getOwnPropertyNames(Object.prototype).sort(), protoNames);
        assert.equal(({} as Record<string, unknown>).polluted, undefined);
        assert.equal(({} as Record<string, unknown>).polluted2, undefined);
        assert.equal(({} as Record<string, unknown>).polluted3, undefined);
      }));

    it('modify: each write is one change-log entry whose op follows the state; no-ops and missing ids write nothing', () =>
      withStore(async (store) => {
        const a = indicatorFor(70);
        const b = indicatorFor(71);
        await store.upsert([item(a), item(b)], { now: T0 });
        const head = await store.head();
        const bump = (o: StixObject): StixObject => ({
          ...o,
          x_stixgate: { ...must(o.x_stixgate, 'o.x_stixgate'), score: 33 },
        });
        let r = await store.modify([a.id, a.id, 'indicator--00000000-0000-4000-8000-0000000000ff'], bump, {
          now: T0 + HOUR,
        });
        assert.deepEqual(r, { updated: 1, unchanged: 0, missing: 1, rejected: [] });
        const head1 = await store.head();
        let ch = (await store.changes(head, 10)).changes;
        assert.deepEqual(
          ch.map((c) => [c.seq, c.id, c.op, c.object.x_stixgate?.score]),
          [[head1, a.id, 'upsert', 33]],
        );
        // the same state again, or no new state: nothing written
        r = await store.modify([a.id, b.id], (o) => (o.id === a.id ? bump(o) : undefined), { now: T0 + HOUR });
        assert.deepEqual(r, { updated: 0, unchanged: 2, missing: 0, rejected: [] });
        assert.equal(await store.head(), head1);
        // an expired state is an expire entry, and back to active an upsert
        await store.modify(
          [b.id],
          (o) => ({ ...o, x_stixgate: { ...must(o.x_stixgate, 'o.x_stixgate'), expired: true } }),
          {
            now: T0 + HOUR,
          },
        );
        await store.modify(
          [b.id],
          (o) => ({ ...o, x_stixgate: { sources: must(o.x_stixgate, 'o.x_stixgate').sources, score: 50 } }),
          {
            now: T0 + HOUR,
          },
        );
        ch = (await store.changes(head1, 10)).changes;
        assert.equal(ch.length, 1, 'the change log keeps the latest state of an object');
        assert.deepEqual([must(ch[0], 'ch[0]').id, must(ch[0], 'ch[0]').op], [b.id, 'upsert']);
        assert.equal((await store.stats()).expired, 0);
        // an id or type change is refused, per object
        r = await store.modify([a.id], (o) => ({ ...o, id: b.id }), { now: T0 + HOUR });
        assert.equal(r.updated, 0);
        assert.equal(r.rejected.length, 1);
        assert.equal(must(r.rejected[0], 'r.rejected[0]').location?.objectId, a.id);
        assert.equal((await store.get(b.id))?.x_stixgate?.score, 50);
      }));

    it('re-scoring: decay writes a score only when it moved by the step, then an expire entry; expired ones are left alone', () =>
      withStore(async (store) => {
        const objs = [indicatorFor(80), indicatorFor(81), indicatorFor(82, { validUntil: T0 + 365 * DAY })];
        await store.upsert(
          objs.map((o) => item(o, 'feed-a', { confidence: 80, seenAt: iso(T0) })),
          { now: T0 },
        );
        await store.upsert(
          [
            item({
              type: 'malware',
              spec_version: '2.1',
              id: `malware--${uuidFor(83)}`,
              created: iso(T0),
              modified: iso(T0),
              name: 'm',
              is_family: false,
            } as StixObject),
          ],
          { now: T0 },
        );
        const head = await store.head();
        let r = await rescoreStore(store, DECAY, T0 + 7 * DAY, { pageSize: 2 });
        assert.deepEqual(r, { scanned: 3, updated: 3, expired: 0, pages: 2, rejected: 0 });
        const got = await store.getMany(objs.map((o) => o.id));
        for (const o of objs) {
          const ext = got.get(o.id)?.x_stixgate as ScoreExtension;
          assert.equal(ext.score, 40, 'one half-life');
          assert.equal(ext.scored_at, iso(T0 + 7 * DAY));
        }
        assert.equal(
          got.get(must(objs[0], 'objs[0]').id)?.valid_until,
          iso(T0 + Math.ceil(7 * Math.log2(80 / 19.5) * DAY)),
          'derived',
        );
        // a source's own valid_until later than the score's expiry is capped at it, and kept beside it (issue #13)
        assert.equal(
          got.get(must(objs[2], 'objs[2]').id)?.valid_until,
          iso(T0 + Math.ceil(7 * Math.log2(80 / 19.5) * DAY)),
          'capped at the score expiry',
        );
        assert.equal(
          (got.get(must(objs[2], 'objs[2]').id)?.x_stixgate as ScoreExtension | undefined)?.source_valid_until,
          iso(T0 + 365 * DAY),
          'the source value is kept',
        );
        assert.equal((await allChanges(store, head)).length, 3);
        const head3 = await store.head();
        // two hours later nothing moved by 5 points: no writes
        r = await rescoreStore(store, DECAY, T0 + 7 * DAY + 2 * HOUR);
        assert.equal(r.updated + r.expired, 0);
        assert.equal(await store.head(), head3);
        // past the crossing: three expire entries (the one with a later valid_until too)
        r = await rescoreStore(store, DECAY, T0 + 15 * DAY);
        assert.equal(r.expired, 3);
        const ch = (await store.changes(head3, 10)).changes;
        assert.deepEqual(
          ch.map((c) => c.op),
          ['expire', 'expire', 'expire'],
        );
        assert.equal((await store.stats()).expired, 3);
        const head6 = await store.head();
        assert.equal(head6, ch.at(-1)?.seq);
        r = await rescoreStore(store, DECAY, T0 + 40 * DAY);
        assert.equal(r.updated + r.expired, 0);
        assert.equal(await store.head(), head6);
      }));

    it('sightings: an SRO per report window, the indicator summary grows, the score rises; a retry writes nothing', () =>
      withStore(async (store) => {
        const o = indicatorFor(90);
        await store.upsert([item(o, 'feed-a', { confidence: 60, seenAt: iso(T0) })], { now: T0 });
        const report = { indicatorId: o.id, count: 3, firstSeen: T0 + HOUR, lastSeen: T0 + 2 * HOUR, where: 'siem-1' };
        const r = await recordSightings(store, DECAY, [report], T0 + 2 * HOUR);
        assert.equal(r.indicatorsUpdated, 1);
        const got = await store.get(o.id);
        const ext = got?.x_stixgate as ScoreExtension;
        assert.deepEqual(ext.sightings, { count: 3, first_seen: iso(T0 + HOUR), last_seen: iso(T0 + 2 * HOUR) });
        assert.equal(ext.score, 70, '60 + 5 · log2(1 + 3)');
        assert.equal((await store.get(sightingId(report)))?.count, 3);
        const head = await store.head();
        const again = await recordSightings(store, DECAY, [report], T0 + 3 * HOUR);
        assert.equal(must(again.recorded[0], 'again.recorded[0]').added, 0);
        assert.equal(await store.head(), head);
      }));

    it('answers ping while open', () =>
      withStore(async (store) => {
        await store.ping();
        assert.equal(typeof store.kind, 'string');
      }));
  });
}
