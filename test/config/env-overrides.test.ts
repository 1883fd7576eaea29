import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig, ConfigError } from '../../src/config/load.js';
import { registry } from '../../integrations/index.js';

const parse = (text: string, env: Record<string, string>) =>
  parseConfig(text, { file: '/etc/stixgate/test.yaml', registry, env });
const issuesOf = (text: string, env: Record<string, string>): string[] => {
  try {
    parse(text, env);
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    return e.issues.map((i) => `${i.path}: ${i.message}`);
  }
  assert.fail('expected a configuration error');
};

const FILE = `server:\n  port: 8080\nsources:\n  feodo:\n    type: csv\n    url: https://feodotracker.abuse.ch/downloads/ipblocklist.csv\n    mapping: feodotracker\n`;

test('STIXGATE__A__B overrides the key a.b, typed as YAML, and is reported', () => {
  const loaded = parse(FILE, {
    STIXGATE__SERVER__PORT: '9090',
    STIXGATE__SOURCES__FEODO__ENABLED: 'false',
    STIXGATE__LOG_LEVEL: 'debug',
    STIXGATE_CONFIG: '/ignored',
  });
  assert.equal(loaded.config.server.port, 9090);
  assert.equal((loaded.config.sources.feodo as { enabled: boolean }).enabled, false);
  assert.equal(loaded.config.log_level, 'debug');
  assert.deepEqual(
    loaded.overrides.map((o) => `${o.path}=${o.variable}`),
    [
      'log_level=STIXGATE__LOG_LEVEL',
      'server.port=STIXGATE__SERVER__PORT',
      'sources.feodo.enabled=STIXGATE__SOURCES__FEODO__ENABLED',
    ],
  );
});

test('a map value replaces the whole key (the store switched to OpenSearch)', () => {
  const loaded = parse('store:\n  type: embedded\n  sync: full\n', {
    STIXGATE__STORE: '{type: opensearch, node: "https://opensearch.internal:9200"}',
  });
  assert.equal(loaded.config.store.type, 'opensearch');
  assert.equal((loaded.config.store as { node: string }).node, 'https://opensearch.internal:9200');
});

test('an invalid override is reported with its key and the variable it came from', () => {
  assert.deepEqual(
    issuesOf(FILE, { STIXGATE__SERVER__PORT: 'abc' })
      .filter((i) => i.startsWith('server.port'))
      .map((i) => i.replace(/ \(line.*?\)/, '')),
    ['server.port: must be an integer, got string "abc" (value from STIXGATE__SERVER__PORT)'],
  );
  assert.match(
    issuesOf(FILE, { STIXGATE__SERVER__PROT: '1' }).join('\n'),
    /server\.prot.*unknown key.*STIXGATE__SERVER__PROT/,
  );
  assert.match(
    issuesOf(FILE, { STIXGATE__SERVER__PORT__X: '1' }).join('\n'),
    /STIXGATE__SERVER__PORT__X cannot be applied: server\.port is not a map/,
  );
  assert.match(
    issuesOf(FILE, { STIXGATE__SERVER____PORT: '1' }).join('\n'),
    /STIXGATE__SERVER____PORT.*segments separated by __/,
  );
  assert.match(
    issuesOf(FILE, { STIXGATE__SERVER: '{port: [1' }).join('\n'),
    /server: the value of STIXGATE__SERVER is not valid YAML/,
  );
});

test('${env:NAME} is an environment reference like ${NAME}; other schemes are refused, never taken literally', () => {
  const text = 'sources:\n  f:\n    type: text_list\n    url: "https://feeds.example.org/list?key=${env:FEED_KEY}"\n';
  const loaded = parse(text, { FEED_KEY: 'k-123' });
  assert.equal(loaded.config.sources.f?.url, 'https://feeds.example.org/list?key=k-123');
  assert.ok(loaded.secretPaths.has('sources.f.url'));
  assert.deepEqual(
    issuesOf(text, {}).map((i) => i.replace(/ \(line.*?\)/, '')),
    ['sources.f.url: environment variable FEED_KEY is not set'],
  );
  const vault = issuesOf(text.replace('env:FEED_KEY', 'vault:secret/feed'), {});
  assert.deepEqual(
    vault.map((i) => i.replace(/ \(line.*?\)/, '')),
    [
      'sources.f.url: unsupported reference ${vault:…}: use ${NAME} or ${env:NAME} (environment variable) or ${file:/path}',
    ],
  );
});
