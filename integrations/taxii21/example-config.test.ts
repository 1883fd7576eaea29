import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'node:test';
import { parseConfig } from '../../src/config/load.js';
import { PROJECT_ROOT } from '../../test/helpers/corpus.js';
import { registry } from '../../test/helpers/taxii21-harness.js';

/**
 * The preset (integrations/taxii21/example-config.yaml, config/examples/taxii.yaml once `taxii21`
 * is in the registry) loads, and so
 * do its commented-out private-server blocks when uncommented.
 */
const moved = join(PROJECT_ROOT, 'config', 'examples', 'taxii.yaml');
const file = existsSync(moved) ? moved : join(PROJECT_ROOT, 'integrations', 'taxii21', 'example-config.yaml');

it('the taxii21 example configuration is valid, commented blocks included', () => {
  const text = readFileSync(file, 'utf8');
  const active = parseConfig(text, { file, registry, env: {} });
  assert.deepEqual(Object.keys(active.config.sources), ['mitre_attack_taxii']);
  // uncomment the blocks that start with "  # <id>:"
  let on = false;
  const uncommented = text
    .split('\n')
    .map((line) => {
      if (/^ {2}# [a-z_]+:$/.test(line)) on = true;
      else if (!line.startsWith('  #')) on = false;
      return on ? line.replace(/^ {2}# ?/, '  ') : line;
    })
    .join('\n');
  const all = parseConfig(uncommented.replace('${file:/run/secrets/vendor_taxii_key}', '${VENDOR_KEY}'), {
    file,
    registry,
    env: { PARTNER_TAXII_USER: 'u', PARTNER_TAXII_PASSWORD: 'p', VENDOR_KEY: 'k' },
  });
  assert.deepEqual(Object.keys(all.config.sources), ['mitre_attack_taxii', 'partner_taxii', 'vendor_taxii']);
  assert.deepEqual(all.config.sources.partner_taxii?.auth, { username: 'u', password: 'p' });
  assert.deepEqual(all.config.sources.vendor_taxii?.auth, { header: 'X-API-Key', api_key: 'k' });
  assert.ok(
    all.secretPaths.has('sources.partner_taxii.auth.password') &&
      all.secretPaths.has('sources.vendor_taxii.auth.api_key'),
  );
});
