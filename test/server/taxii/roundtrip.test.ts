import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canSee } from '../../../src/access/policy.js';
import { viewOf } from '../../../src/access/view.js';
import type { StixObject } from '../../../src/core/stix.js';
import type { Store } from '../../../src/store/contract.js';
import { parseCursor } from '../../../integrations/taxii21/cursor.js';
import { makeSource, runOnce, tempStore } from '../../helpers/taxii21-harness.js';
import { SOURCES, matrixValues, objectsOf } from '../../access/matrix-fixture.js';
import { ACCESS, DEFAULT_COLLECTIONS, TAXII_KEYS, T0, ipIndicators, taxiiRig, type Rig } from './rig.js';
import { TLP_MARKING_BY_LEVEL } from '../../../src/core/stix.js';
import { must } from '../../helpers/must.js';

/** The origin's view at amber (what the shared collection serves an amber key), without the store's own extension. */
async function originView(rig: Rig): Promise<Map<string, StixObject>> {
  const { changes } = await rig.store.changes(0, 100_000);
  const out = new Map<string, StixObject>();
  for (const c of changes)
    if (canSee(c.object, 'amber', ACCESS))
      out.set(c.id, strip(must(viewOf(c.object, 'amber', ACCESS), "viewOf(c.object, 'amber', ACCESS)")));
  return out;
}

function strip(o: StixObject): StixObject {
  const { x_stixgate: _x, ...rest } = o;
  return rest as StixObject;
}

async function copyOf(store: Store): Promise<Map<string, StixObject>> {
  const { changes } = await store.changes(0, 100_000);
  return new Map(changes.map((c) => [c.id, strip(c.object)]));
}

describe('taxii21 source against our TAXII server', () => {
  it("reproduces the store's view exactly with small pages, then resumes with added_after and reads only what changed", async (t) => {
    const rig = await taxiiRig(t, { listen: true });
    const values = matrixValues();
    for (const s of SOURCES) await rig.ingest(s, objectsOf(s, values, T0));
    const copy = await tempStore();
    t.after(() => copy.dispose());
    const h = makeSource({
      url: `${rig.url}/taxii2/`,
      collections: [DEFAULT_COLLECTIONS.shared.id],
      page_size: 7,
      overlap_secs: 0,
      auth: { header: 'X-Api-Key', api_key: TAXII_KEYS.amber },
    });
    const first = await runOnce(h, copy.store, T0);
    const view = await originView(rig);
    assert.ok(view.size > 60, `a sizeable view (${view.size})`);
    assert.equal(first.received, view.size, 'each object once');
    assert.equal(first.pages, Math.ceil(view.size / 7));
    assert.deepEqual(first.rejectedByReason, {});
    assert.deepEqual(await copyOf(copy.store), view, 'the copy is the view');
    const cursor = parseCursor(await copy.store.getCursor('source:t')).collections[DEFAULT_COLLECTIONS.shared.id];
    assert.ok(cursor?.startsWith('2026-0'), cursor);

    // changes at the origin: one value gains an amber contribution, new objects arrive, a red one does not show
    rig.setNow(T0 + 10_000);
    const later = matrixValues()
      .filter((v) => v.contributions.length === 1)
      .slice(0, 4)
      .map((v) => ({
        ...v,
        contributions: v.contributions.map((c) => ({
          ...c,
          source: 'src-e' as const,
          tlp: 'amber' as const,
          tag: `${c.tag}-late`,
        })),
      }));
    await rig.ingest(
      'src-late',
      objectsOf('src-e', later, T0 + 86_400_000).map((o) => ({
        ...o,
        modified: new Date(T0 + 3_600_000).toISOString(),
      })),
    );
    const second = await runOnce(h, copy.store, T0 + 20_000);
    const after = await originView(rig);
    const changed = [...after].filter(([id, o]) => JSON.stringify(view.get(id)) !== JSON.stringify(o)).length;
    assert.ok(changed >= 4, `changed ${changed}`);
    assert.equal(second.received, changed, 'only what changed, each once');
    assert.deepEqual(await copyOf(copy.store), after);
    const third = await runOnce(h, copy.store, T0 + 30_000);
    assert.equal(third.received, 0, 'nothing new: nothing read');
  });

  it('a collection whose filters skip long stretches of the log answers empty pages with more: true; the source follows them to the end', async (t) => {
    const collections = { ...DEFAULT_COLLECTIONS, shared: { ...DEFAULT_COLLECTIONS.shared, types: ['malware'] } };
    const rig = await taxiiRig(t, { listen: true, collections, taxii: { max_scan_per_request: 100 } });
    const values = matrixValues();
    await rig.ingest('bulk', ipIndicators(400, '45.170', TLP_MARKING_BY_LEVEL.clear));
    await rig.ingest(
      'late',
      objectsOf('src-a', values, T0)
        .filter((o) => o.type === 'malware')
        .slice(0, 3)
        .map((o) => ({ ...o, object_marking_refs: undefined })),
    );
    assert.ok((await rig.store.head()) > 300, 'more than three scans of non-matching entries before the malware');
    const copy = await tempStore();
    t.after(() => copy.dispose());
    const h = makeSource({
      url: `${rig.url}/taxii2/`,
      collections: [DEFAULT_COLLECTIONS.shared.id],
      page_size: 5,
      overlap_secs: 0,
      auth: { header: 'X-Api-Key', api_key: TAXII_KEYS.amber },
    });
    const run = await runOnce(h, copy.store, T0);
    assert.deepEqual(run.rejectedByReason, {}, 'not taken for a stuck server');
    assert.equal(run.received, 3);
    assert.ok(run.pages > 3, `${run.pages} pages`);
  });
});
