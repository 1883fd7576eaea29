import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runOracle } from '../helpers/sink-kit.js';
import { VALIDATOR_SKIP as skip } from '../helpers/validator.js';
import { XsoarSimulator } from '../../integrations/xsoar/simulator.js';
import type { SimIndicator } from '../../integrations/xsoar/sim-store.js';
import { must } from '../helpers/must.js';

/**
 * Simulator fidelity: Palo Alto's own Python client (demisto-py, scripts/oracles/xsoar_demisto_check.py)
 * creates, feeds, searches, edits and deletes indicators against the XSOAR simulator with an XSOAR 6
 * API key, an XSOAR 8 standard key (x-xdr-auth-id, `/xsoar` paths) and an XSOAR 8 advanced key
 * (nonce + timestamp + SHA-256). The client's view must equal the simulator's state.
 * The Python process runs asynchronously: the simulator lives in this process's event loop.
 */
interface View {
  id: string;
  value: string;
  type: string;
  score: number;
  manualScore: boolean;
  version: number;
  comment: string;
  customFields: Record<string, unknown>;
}

const viewOf = (i: SimIndicator): View => ({
  id: i.id,
  value: i.value,
  type: i.indicator_type,
  score: i.score,
  manualScore: i.manualScore,
  version: i.version,
  comment: i.comment,
  customFields: i.CustomFields,
});

const MODES: [mode: string, key: string, authId: string | undefined, scheme: string, host: RegExp][] = [
  ['v6', 'std-key', undefined, 'v6', /^http:\/\/127\.0\.0\.1:\d+$/],
  ['v8', 'std-key', '1', 'standard', /^http:\/\/127\.0\.0\.1:\d+\/xsoar$/],
  ['v8adv', 'adv-key', '2', 'advanced', /^http:\/\/127\.0\.0\.1:\d+\/xsoar$/],
];

for (const [mode, key, authId, scheme, host] of MODES) {
  test(`demisto-py (${mode}) drives the XSOAR simulator: create, feed, search, edit, CustomFields by edit (undefined field dropped), version conflict, delete, exclusion list`, {
    skip,
    timeout: 120_000,
  }, async () => {
    const sim = new XsoarSimulator({
      keys: [
        { key: 'std-key', id: 1 },
        { key: 'adv-key', id: 2, type: 'advanced' },
      ],
      rejectReusedNonce: true,
    });
    const { base } = await sim.start();
    try {
      const { steps: o, ok } = await runOracle('xsoar_demisto_check.py', [
        base,
        mode,
        key,
        ...(authId ? [authId] : []),
      ]);
      assert.match(ok('host'), host);
      const ip = ok('create_ip') as View;
      assert.deepEqual(
        [ip.value, ip.type, ip.score, ip.manualScore, ip.version, ip.customFields],
        ['198.51.100.7', 'IP', 3, true, 1, { tags: ['oracle'] }],
      );
      assert.equal(ok('create_domain').type, 'Domain');
      const again = ok('create_again') as View;
      assert.deepEqual([again.id, again.version], [ip.id, 2], 'create on an existing value updates that indicator');
      assert.equal(ok('feed'), null);
      const all = ok('search_all') as { total: number; iocs: View[] };
      assert.equal(all.total, 7);
      assert.deepEqual(
        ok('search_ip').iocs.map((i: View) => i.id),
        [ip.id],
      );
      const paged = ok('search_paged') as { total: number; iocs: View[] };
      assert.deepEqual([paged.total, paged.iocs.map((i) => i.value)], [5, ['203.0.113.3', '203.0.113.4']]);
      assert.equal(ok('search_size0'), 7, 'size 0: the total, no indicators');
      assert.deepEqual(ok('edit_fields'), { tags: ['oracle'], trafficlightprotocol: 'AMBER' });
      const edited = ok('edit') as View;
      assert.deepEqual([edited.value, edited.score, edited.version, edited.comment], ['evil.example', 3, 2, 'edited']);
      assert.equal(must(o.stale_edit, 'o.stale_edit').ok, false);
      assert.equal(must(o.stale_edit, 'o.stale_edit').status, 409);
      assert.match(must(must(o.stale_edit, 'o.stale_edit').body, 'o.stale_edit.body'), /DB version conflict error/);
      assert.deepEqual(ok('delete').notUpdated, 0);
      assert.equal(ok('delete').updatedIds.length, 5);
      assert.deepEqual(ok('delete_excluding'), { updatedIds: [ip.id], notUpdated: 0 });
      // the client's last view equals the simulator's state
      const final = ok('final') as { total: number; iocs: View[] };
      assert.deepEqual(final.iocs, sim.indicators().map(viewOf));
      assert.equal(final.total, 1);
      assert.deepEqual(
        sim.exclusions().map((x) => [x.value, x.reason]),
        [['198.51.100.7', 'false positive']],
        'only the delete without doNotWhitelist excluded its value',
      );
      assert.equal(must(o.bad_key, 'o.bad_key').ok, false);
      assert.equal(must(o.bad_key, 'o.bad_key').status, mode === 'v6' ? 403 : 401);
      // every authenticated call of the client used the expected scheme on the expected paths
      const served = sim.requests.filter((q) => q.status >= 200 && q.status < 300);
      assert.ok(served.length >= 12);
      assert.ok(
        served.every((q) => q.scheme === scheme && (mode === 'v6' ? q.api === 6 : q.path.startsWith('/xsoar/'))),
        JSON.stringify(served.slice(0, 3)),
      );
    } finally {
      await sim.close();
    }
  });
}
