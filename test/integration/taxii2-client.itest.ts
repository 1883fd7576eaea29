import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { canSee } from '../../src/access/policy.js';
import { viewOf } from '../../src/access/view.js';
import type { StixObject } from '../../src/core/stix.js';
import { PROJECT_ROOT } from '../helpers/corpus.js';
import { assertValidStix, PYTHON, VALIDATOR_SKIP } from '../helpers/validator.js';
import { SOURCES, matrixValues, objectsOf } from '../access/matrix-fixture.js';
import { ACCESS, DEFAULT_COLLECTIONS, TAXII_KEYS, T0, ipIndicators, taxiiRig } from '../server/taxii/rig.js';
import { must } from '../helpers/must.js';

/**
 * OASIS's taxii2-client (PyPI) against our TAXII server: discovery, API root, collections,
 * objects and manifest paged with as_pages, one object, its versions, and add_objects with its
 * status. What it reads is the store's view at the key's ceiling, and every object it received
 * passes stix2-validator.
 */
describe('taxii2-client against the TAXII 2.1 server', { skip: VALIDATOR_SKIP }, () => {
  it('discovers, pages objects and manifest, reads one object and its versions, and adds objects', async (t) => {
    const rig = await taxiiRig(t, { listen: true });
    const values = matrixValues();
    for (const s of SOURCES) await rig.ingest(s, objectsOf(s, values, T0));
    const { changes } = await rig.store.changes(0, 100_000);
    const view = changes
      .filter((c) => canSee(c.object, 'amber', ACCESS))
      .map((c) => must(viewOf(c.object, 'amber', ACCESS), "viewOf(c.object, 'amber', ACCESS)"));
    const posted = ipIndicators(5, '45.160', undefined);
    const envelopeFile = join(rig.dataDir, 'envelope.json');
    writeFileSync(envelopeFile, JSON.stringify({ objects: posted }));
    const head0 = await rig.store.head();
    // the client blocks on its HTTP calls: it runs as a child process while the server answers
    const out = await new Promise<string>((resolve, reject) => {
      const args = [
        join(PROJECT_ROOT, 'scripts', 'oracles', 'taxii2_client_check.py'),
        `${rig.url}/taxii2/`,
        TAXII_KEYS.writer,
        DEFAULT_COLLECTIONS.shared.id,
        DEFAULT_COLLECTIONS.inbox.id,
        '9',
        envelopeFile,
      ];
      execFile(must(PYTHON, 'PYTHON'), args, { maxBuffer: 1 << 26 }, (err, stdout, stderr) =>
        err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout),
      );
    });
    const r = JSON.parse(out);
    assert.equal(r.title, 'stixgate TAXII 2.1');
    assert.deepEqual(r.api_roots, [`${rig.url}/taxii2/default/`]);
    assert.equal(r.default, `${rig.url}/taxii2/default/`);
    assert.deepEqual(r.root, {
      title: 'default',
      versions: ['application/taxii+json;version=2.1'],
      max_content_length: 1024 * 1024,
    });
    assert.deepEqual(
      r.collections.map((c: { title: string; can_read: boolean; can_write: boolean }) => [
        c.title,
        c.can_read,
        c.can_write,
      ]),
      [
        ['public', true, false],
        ['Shared', true, false],
        ['inbox', true, true],
      ],
    );
    assert.deepEqual(r.objects, view, 'the objects are the view, in change-log order');
    assert.deepEqual(r.object_pages, [
      ...Array(Math.floor(view.length / 9)).fill(9),
      ...(view.length % 9 ? [view.length % 9] : []),
    ]);
    assert.deepEqual(
      r.manifest.map((m: { id: string }) => m.id),
      view.map((o) => o.id),
    );
    assert.equal(r.typed_count, 9);
    assert.deepEqual(r.one, [view[0]]);
    assert.deepEqual(r.versions, [must(view[0], 'view[0]').modified]);
    assert.deepEqual(
      [r.status.status, r.status.total_count, r.status.success_count, r.status.failure_count],
      ['complete', 5, 5, 0],
    );
    assert.deepEqual(
      r.status.successes.map((s: { id: string }) => s.id),
      posted.map((o) => o.id),
    );
    // the write is in the store and its change log
    assert.deepEqual(
      (await rig.store.changes(head0, 100)).changes.map((c) => c.id),
      posted.map((o) => o.id),
    );
    assertValidStix([['taxii objects', r.objects as StixObject[]]], (m) => t.diagnostic(m));
  });
});
