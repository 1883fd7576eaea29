import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { accessPolicy } from '../../src/access/policy.js';
import { TLP_LEVELS, type StixObject } from '../../src/core/stix.js';
import { NO_DECAY_SCORING } from '../../src/score/model.js';
import { writeBundle } from '../../src/search/bundle.js';
import { parseFilter } from '../../src/search/filter.js';
import { searchAll } from '../../src/search/pages.js';
import { openEmbeddedStore } from '../../src/store/embedded/index.js';
import { SOURCES, ingestMatrixSource, matrixValues, objectsOf } from '../access/matrix-fixture.js';
import { assertValidStix, VALIDATOR_SKIP } from '../helpers/validator.js';

/**
 * Every object `stixgate export` writes passes the OASIS stix2-validator: the TLP matrix's data
 * (indicators, malware, relationships from five sources at five levels, so full and reduced views)
 * exported at every ceiling and in every state, as the streamed bundle writer writes it.
 */
test('exported bundles at every ceiling pass stix2-validator', { skip: VALIDATOR_SKIP }, async (t) => {
  const T0 = Date.parse('2026-03-01T00:00:00.000Z');
  const dir = mkdtempSync(join(tmpdir(), 'stixgate-export-validate-'));
  const store = await openEmbeddedStore({ dataDir: join(dir, 'data') });
  try {
    const values = matrixValues();
    for (const source of SOURCES) {
      await ingestMatrixSource(store, source, objectsOf(source, values, T0), T0);
    }
    const policy = accessPolicy({ defaultTlp: 'amber', scoring: NO_DECAY_SCORING });
    const filter = parseFilter({ state: 'active,expired,revoked' });
    assert.ok(filter.ok);
    const bundles: [string, StixObject[]][] = [];
    for (const ceiling of TLP_LEVELS) {
      let text = '';
      const n = await writeBundle(searchAll(store, filter.filter, { ceiling, policy }), (s) => {
        text += s;
      });
      const bundle = JSON.parse(text) as { type: string; objects: StixObject[] };
      assert.equal(bundle.objects.length, n);
      assert.ok(n > 0, `${ceiling}: objects exported`);
      bundles.push([`export max_tlp ${ceiling}`, bundle.objects]);
    }
    assertValidStix(bundles, (m) => t.diagnostic(m));
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
