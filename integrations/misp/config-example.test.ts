import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load.js';
import { registry } from '../index.js';
import { PROJECT_ROOT } from '../../test/helpers/corpus.js';
import { mispFeedSource } from '../misp_feed/index.js';
import { mispApiSource } from '../misp_api/index.js';

test('the MISP example configuration validates; api_key is a secret path', () => {
  const reg = [...registry.filter((d) => d.type !== 'misp_feed' && d.type !== 'misp_api'), mispFeedSource, mispApiSource];
  const loaded = loadConfig(join(PROJECT_ROOT, 'integrations/misp/config-example.yaml'), reg, { MISP_API_KEY: 'k-123' });
  const sources = loaded.config.sources as Record<string, Record<string, unknown>>;
  assert.deepEqual(Object.keys(sources), ['circl_osint_feed', 'misp_server']);
  assert.equal(sources.misp_server.api_key, 'k-123');
  assert.equal(sources.misp_server.page_size, 500);
  assert.equal(sources.circl_osint_feed.verify_hashes, true);
  assert.ok(loaded.secretPaths.has('sources.misp_server.api_key'));
});
