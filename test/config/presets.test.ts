import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load.js';
import { PROJECT_ROOT } from '../helpers/corpus.js';
import { withDefinitions } from '../helpers/source-harness.js';
import { urlhausSource, threatfoxSource, malwarebazaarSource } from '../../integrations/abusech/index.js';
import { otxSource } from '../../integrations/otx/index.js';

/** The preset, wherever it lives: config/examples/<name>.yaml once registered, else beside the code. */
const preset = (name: string, folder: string) => {
  const shipped = join(PROJECT_ROOT, 'config', 'examples', `${name}.yaml`);
  return existsSync(shipped) ? shipped : join(PROJECT_ROOT, 'integrations', folder, 'preset.yaml');
};

const env = { ABUSECH_AUTH_KEY: 'k-abusech', OTX_API_KEY: 'k-otx' };

test('the OTX and abuse.ch presets are valid configurations with their keys marked secret', () => {
  const reg = withDefinitions([urlhausSource, threatfoxSource, malwarebazaarSource, otxSource]);
  const ab = loadConfig(preset('abusech', 'abusech'), reg, env);
  assert.deepEqual(Object.keys(ab.config.sources), [
    'urlhaus_urls',
    'urlhaus_payloads',
    'threatfox',
    'malwarebazaar',
    'sslbl_certificates',
  ]);
  assert.deepEqual([...ab.secretPaths].sort(), [
    'sources.malwarebazaar.auth_key',
    'sources.threatfox.auth_key',
    'sources.urlhaus_payloads.auth_key',
    'sources.urlhaus_urls.auth_key',
  ]);
  assert.equal((ab.config.sources.threatfox as any).url, 'https://threatfox-api.abuse.ch/api/v1/');
  const otx = loadConfig(preset('otx', 'otx'), reg, env);
  assert.equal((otx.config.sources.otx_subscribed as any).api_key, 'k-otx');
  assert.deepEqual([...otx.secretPaths], ['sources.otx_subscribed.api_key']);
});
