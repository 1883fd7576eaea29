import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { collectSource } from '../../test/helpers/collect.js';
import { PROJECT_ROOT } from '../../test/helpers/corpus.js';
import { must } from '../../test/helpers/must.js';

test('SSLBL certificate SHA-1 list: fingerprints become x509-certificate indicators labelled with the malware', async () => {
  const { objects, rejections } = await collectSource(
    'csv',
    join(PROJECT_ROOT, 'test', 'fixtures', 'sources', 'sslblacklist.csv'),
    { mapping: 'sslbl_sha1', max_bad_ratio: 0.5 },
  );
  assert.deepEqual(objects.map((o) => o.pattern).sort(), [
    "[x509-certificate:hashes.'SHA-1' = '3dc3e2e1f8a6b1d5c7e9f0a1b2c3d4e5f6a7b8c9']",
    "[x509-certificate:hashes.'SHA-1' = '8e1c4d2b6a0f3e5d7c9b1a2f4e6d8c0b2a4f6e8d']",
  ]);
  const qakbot = must(
    objects.find((o) => String(o.pattern).includes('3dc3e2e1')),
    "objects.find((o) => String(o.pattern).includes('3dc3e2e1'))",
  );
  assert.ok(
    (qakbot.labels as string[]).some((l) => /qakbot/i.test(l)),
    JSON.stringify(qakbot.labels),
  );
  assert.equal(qakbot.valid_from, '2026-11-20T08:12:41.000Z');
  assert.equal(rejections.length, 1);
  assert.equal(must(rejections[0], 'rejections[0]').location?.line, 9);
});
