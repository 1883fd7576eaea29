import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, parseConfig } from '../../src/config/load.js';
import { validate } from '../../src/core/schema.js';
import { registry } from '../../integrations/index.js';
import { hashApiKey, isLoopbackHost, serverSchema } from '../../src/server/index.js';
import { PROJECT_ROOT } from '../helpers/corpus.js';
import { KEYS, bearer, setup } from './helpers.js';
import { must } from '../helpers/must.js';

const KEY_HASH = hashApiKey('k-exposure-5e1f0c7a9b3d2e4f6a8c');

function issuesOf(text: string): { path: string; message: string }[] {
  try {
    parseConfig(text, { file: 'exposure.yaml', registry, env: {} });
    return [];
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    return e.issues;
  }
}

test('loopback addresses: 127/8, ::1, localhost; everything else is exposed', () => {
  for (const h of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost', 'LOCALHOST', '::ffff:127.0.0.1'])
    assert.equal(isLoopbackHost(h), true, h);
  for (const h of ['0.0.0.0', '::', '192.0.2.10', '10.0.0.1', 'example.org', '::ffff:10.0.0.1', '128.0.0.1'])
    assert.equal(isLoopbackHost(h), false, h);
});

test('a non-loopback listener without keys and without an explicit anonymous_lookup is a start-up error naming server.listen_host', () => {
  const issues = issuesOf('server:\n  listen_host: 0.0.0.0\n');
  assert.equal(issues.length, 1);
  assert.match(must(issues[0], 'issues[0]').path, /^server\.listen_host/);
  assert.match(
    must(issues[0], 'issues[0]').message,
    /"0\.0\.0\.0" is not a loopback address and no API key is configured: add keys under server\.api_keys/,
  );
  assert.match(must(issues[0], 'issues[0]').message, /set server\.anonymous_lookup explicitly/);
  // the same address with a key, or with anonymous_lookup written out, starts
  assert.deepEqual(
    issuesOf(`server:\n  listen_host: 0.0.0.0\n  api_keys:\n    siem: { hash: "${KEY_HASH}", scopes: [lookup] }\n`),
    [],
  );
  assert.deepEqual(issuesOf('server:\n  listen_host: "::"\n  anonymous_lookup: true\n'), []);
  assert.deepEqual(issuesOf('server:\n  listen_host: 0.0.0.0\n  anonymous_lookup: false\n'), []);
  // exposing anonymous lookups or metrics is allowed, and said at every start
  const anon = parseConfig('server:\n  listen_host: 0.0.0.0\n  anonymous_lookup: true\n  metrics_public: true\n', {
    file: 'a.yaml',
    registry,
    env: {},
  });
  assert.deepEqual(anon.warnings, [
    'server.anonymous_lookup is true on 0.0.0.0: anyone who reaches the port can look up TLP:CLEAR indicators without a key',
    'server.metrics_public is true on 0.0.0.0: anyone who reaches the port can read /metrics (source, sink and job names, error reasons, store sizes)',
  ]);
  assert.deepEqual(
    parseConfig('server:\n  anonymous_lookup: true\n', { file: 'b.yaml', registry, env: {} }).warnings,
    [],
  );
  // loopback needs neither
  assert.deepEqual(issuesOf('server:\n  listen_host: 127.0.0.1\n'), []);
  assert.deepEqual(issuesOf('{}'), []);
});

test('the shipped config/docker.yaml starts, listens on all interfaces and serves no anonymous lookups', async () => {
  const text = readFileSync(join(PROJECT_ROOT, 'config', 'docker.yaml'), 'utf8');
  const { config } = parseConfig(text, { file: 'config/docker.yaml', registry, env: {} });
  assert.equal(config.server.listen_host, '0.0.0.0');
  assert.equal(config.server.anonymous_lookup, false);
  assert.equal(config.server.metrics_public, false);
  // served with that server section: health answers, lookups and metrics need a key
  const { app } = await setup({ ...config.server, api_keys: {} });
  assert.equal((await app.inject('/healthz')).statusCode, 200);
  assert.equal((await app.inject('/api/v1/lookup?value=203.0.113.9')).statusCode, 401);
  assert.equal((await app.inject('/metrics')).statusCode, 401);
});

test('scopes name only what exists: admin, ingest and taxii are known; a typo gets a "did you mean"', () => {
  const r = validate(serverSchema, {
    api_keys: {
      a: { hash: KEY_HASH, scopes: ['lookup', 'admin', 'ingest'] },
      b: { hash: KEY_HASH, scopes: ['taxii'] },
      c: { hash: KEY_HASH, scopes: ['lookpu', 'metric', 'root'] },
    },
  });
  assert.equal(r.ok, false);
  if (r.ok) return;
  const byPath = Object.fromEntries(r.issues.map((i) => [i.path, i.message]));
  assert.deepEqual(Object.keys(byPath).sort(), [
    'api_keys.c.scopes[0]',
    'api_keys.c.scopes[1]',
    'api_keys.c.scopes[2]',
  ]);
  assert.match(
    must(byPath['api_keys.c.scopes[0]'], "byPath['api_keys.c.scopes[0]']"),
    /got "lookpu" \(did you mean "lookup"\?\)/,
  );
  assert.match(
    must(byPath['api_keys.c.scopes[1]'], "byPath['api_keys.c.scopes[1]']"),
    /got "metric" \(did you mean "metrics"\?\)/,
  );
  assert.equal(
    byPath['api_keys.c.scopes[2]'],
    'must be one of admin, edl, ingest, lookup, metrics, search, sightings, taxii, got "root"',
  );
});

test('the whole configuration reports an unknown scope with its YAML path at start-up', () => {
  const issues = issuesOf(`server:\n  api_keys:\n    ops: { hash: "${KEY_HASH}", scopes: [admin, root] }\n`);
  assert.equal(issues.length, 1);
  assert.match(must(issues[0], 'issues[0]').path, /^server\.api_keys\.ops\.scopes\[1\]/);
  assert.match(must(issues[0], 'issues[0]').message, /must be one of admin, edl, ingest/);
});

test('server addresses and limits are checked at start-up: proxies and key networks must be IPs or CIDRs, headers within the request timeout', () => {
  const issues = issuesOf(
    `server:\n  trusted_proxies: [10.0.0.0/8, "10.0.0.0/33", proxy.example]\n  headers_timeout_secs: 40\n  request_timeout_secs: 30\n` +
      `  api_keys:\n    k: { hash: "${KEY_HASH}", scopes: [lookup], allowed_networks: ["192.0.2.0/24", "nonsense"], expires: "2027-02-30T00:00:00Z" }\n`,
  );
  const paths = issues.map((i) => i.path.replace(/ \(line.*$/, '')).sort();
  assert.deepEqual(paths, [
    'server.api_keys.k.allowed_networks[1]',
    'server.api_keys.k.expires',
    'server.headers_timeout_secs',
    'server.trusted_proxies[1]',
    'server.trusted_proxies[2]',
  ]);
});

test('FAULTS A13: /metrics needs a key with the metrics scope by default (metrics_public opens it); its labels carry no key, value or request text', async () => {
  const { app } = await setup();
  assert.equal((await app.inject('/metrics')).statusCode, 401);
  assert.equal((await app.inject({ url: '/metrics', headers: bearer(KEYS.reader) })).statusCode, 403);
  const canaryKey = 'k-canary-presented-3b8e1f2a9c7d';
  const canaryValue = 'canary-value-8c1d.example';
  await app.inject({ url: `/api/v1/lookup?value=${canaryValue}`, headers: bearer(canaryKey) });
  await app.inject({ url: `/api/v1/lookup?value=${canaryValue}`, headers: bearer(KEYS.reader) });
  await app.inject({
    method: 'POST',
    url: '/api/v1/lookup',
    headers: bearer(KEYS.reader),
    payload: { values: ['198.51.100.7', canaryValue] },
  });
  await app.inject({ url: `/no/such/${canaryValue}` });
  const res = await app.inject({ url: '/metrics', headers: bearer(KEYS.metrics) });
  assert.equal(res.statusCode, 200);
  for (const secret of [...Object.values(KEYS), canaryKey, canaryValue, '198.51.100.7', 'reader', 'scraper'])
    assert.equal(res.body.includes(secret), false, secret);
  const labels = [...res.body.matchAll(/^stixgate_\w+\{([^}]*)\}/gm)].flatMap((m) =>
    [...must(m[1], 'm[1]').matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]] as const),
  );
  assert.ok(labels.length > 5);
  const names = new Set(labels.map(([n]) => n));
  assert.deepEqual([...names].sort(), ['code', 'kind', 'le', 'node', 'outcome', 'result', 'type', 'version']);
  for (const [, v] of labels) assert.match(must(v, 'v'), /^[a-zA-Z0-9_.+-]{1,32}$/, v);
  assert.match(res.body, /^stixgate_api_refused_total\{code="unauthorized"\} 2$/m);
  assert.match(res.body, /^stixgate_api_refused_total\{code="not_found"\} 1$/m);
  assert.match(res.body, /^stixgate_api_refused_total\{code="forbidden"\} 1$/m);
  const open = (await setup({ metrics_public: true })).app;
  assert.equal((await open.inject('/metrics')).statusCode, 200);
});

test('a trusted proxy or key network that is not an address or CIDR is a start-up error naming its path, the part and the character', () => {
  const issues = issuesOf(
    `server:\n  trusted_proxies: ["10.0.0.0/8", "10.0.0.0/33"]\n  api_keys:\n    siem: { hash: "${KEY_HASH}", scopes: [lookup], allowed_networks: ["fe80::1%eth0", "::ffff:192.0.2.0/120"] }\n`,
  );
  assert.deepEqual(issues, [
    {
      path: 'server.trusted_proxies[1] (line 2, column 35)',
      message:
        '"10.0.0.0/33" is not an IP address or CIDR: the prefix length is not a whole number from 0 to 32, at character 10',
    },
    {
      path: 'server.api_keys.siem.allowed_networks[0] (line 4, column 131)',
      message: '"fe80::1%eth0" is not an IP address or CIDR: the address is neither IPv4 nor IPv6, at character 1',
    },
  ]);
});
