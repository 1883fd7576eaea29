import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Validator } from '@seriousme/openapi-schema-validator';
import { fastify } from 'fastify';
import { buildIndex } from '../../src/lookup/index.js';
import { STANDARD } from '../score/helpers.js';
import { hashApiKey } from '../../src/server/index.js';
import { openApiCollector } from '../../src/server/openapi.js';
import { API_SCOPES } from '../../src/server/schema.js';
import { rig } from '../correlate/fixtures.js';
import { T0 } from '../lookup/fixtures.js';
import { bearer, serverConfig, panLists, quietServer } from './helpers.js';
import { must } from '../helpers/must.js';

const ALL = 'k-all-scopes-6c5b4a3f2e1d0c9b8a7f';

type Doc = {
  openapi: string;
  paths: Record<
    string,
    Record<
      string,
      {
        parameters?: { name: string; in: string }[];
        security: unknown[];
        'x-stixgate-scope'?: string;
        responses: Record<string, unknown>;
      }
    >
  >;
};

/** The paths fastify registered, from its route tree ("│   └── /:id" nests under its prefix). */
function registeredPaths(tree: string): string[] {
  const stack: string[] = [];
  const out: string[] = [];
  for (const l of tree.split('\n')) {
    const m = /^(.*?)(?:├── |└── )(\/\S*) \(/.exec(l);
    if (!m) continue;
    stack.length = must(m[1], 'm[1]').length / 4;
    stack.push(must(m[2], 'm[2]'));
    out.push(stack.join(''));
  }
  return out;
}

test('GET /api/openapi.json describes every registered route and method, and nothing else; it is valid OpenAPI 3.1', async (t) => {
  const r = await rig(t);
  const { index } = await buildIndex(r.store, { now: () => T0 });
  const config = serverConfig({
    api_keys: { all: { hash: hashApiKey(ALL), scopes: [...API_SCOPES], max_tlp: 'red' } },
  });
  const lists = await panLists(r.store, T0);
  const app = quietServer({
    config,
    index,
    store: r.store,
    now: () => T0,
    correlator: r.correlator,
    scoring: STANDARD(),
    edl: { lists, basicAuth: true },
  });
  t.after(() => app.close());
  const res = await app.inject({ url: '/api/openapi.json' });
  assert.equal(res.statusCode, 200, 'no key needed');
  const doc = res.json() as Doc;

  const result = await new Validator().validate(doc as never);
  assert.deepEqual(result.errors ?? [], [], 'the OASIS 3.1 schema accepts it');
  assert.equal(result.valid, true);
  assert.equal(doc.openapi, '3.1.0');

  // every path fastify serves, with the methods it really answers: a method no route answers is a
  // 405 whose Allow names the real ones (asked with OPTIONS, which no route answers)
  const served = new Map<string, string[]>();
  const paths = registeredPaths(app.printRoutes({ commonPrefix: false }));
  // the console's HTML pages are left out of the API description on purpose (docs/console.md)
  const consolePaths = paths.filter((p) => p === '/console' || p.startsWith('/console/'));
  assert.ok(
    consolePaths.includes('/console/search') && consolePaths.includes('/console/login'),
    'the console is served',
  );
  for (const path of paths.filter((p) => !consolePaths.includes(p))) {
    const url = path.replace(':id', 'indicator--00000000-0000-4000-8000-000000000000').replace(':list/:kind', 'pan/ip');
    const o = await app.inject({ method: 'OPTIONS', url, headers: bearer(ALL) });
    assert.equal(o.statusCode, 405, `OPTIONS ${path}`);
    served.set(
      path.replace(/:(\w+)/g, '{$1}'),
      String(o.headers.allow)
        .split(', ')
        .filter((m) => m !== 'HEAD')
        .map((m) => m.toLowerCase())
        .sort(),
    );
  }
  const described = new Map(Object.entries(doc.paths).map(([p, ops]) => [p, Object.keys(ops).sort()]));
  assert.deepEqual(
    [...described.keys()].filter((p) => p.startsWith('/console')),
    [],
    'no console page in the API description',
  );
  assert.deepEqual([...described.entries()].sort(), [...served.entries()].sort(), 'the document and the routes agree');
  for (const must of [
    '/api/v1/lookup',
    '/api/v1/objects',
    '/api/v1/objects/{id}',
    '/api/v1/objects/{id}/related',
    '/api/v1/deliveries',
    '/api/v1/sightings',
    '/metrics',
    '/healthz',
    '/readyz',
    '/api/openapi.json',
    '/edl/{list}/{kind}',
  ]) {
    assert.ok(described.has(must), must);
  }

  // parameters, scopes and bodies come from the route schemas
  const search = must(
    must(doc.paths['/api/v1/objects'], "doc.paths['/api/v1/objects']").get,
    "doc.paths['/api/v1/objects'].get",
  );
  assert.deepEqual(
    must(must(search, 'search').parameters, 'search.parameters')
      .map((p) => p.name)
      .sort(),
    [
      'cidr',
      'cursor',
      'label',
      'limit',
      'max_score',
      'min_score',
      'modified_since',
      'source',
      'state',
      'tlp',
      'type',
      'value',
    ],
  );
  assert.equal(must(search['x-stixgate-scope'], "search['x-stixgate-scope']"), 'search');
  assert.ok(
    must(search.responses['401'], "search.responses['401']") &&
      must(search.responses['403'], "search.responses['403']"),
    'keyed routes list 401 and 403',
  );
  assert.deepEqual(
    must(
      must(
        must(doc.paths['/api/v1/objects/{id}'], "doc.paths['/api/v1/objects/{id}']").get,
        "doc.paths['/api/v1/objects/{id}'].get",
      ).parameters,
      "doc.paths['/api/v1/objects/{id}'].get.parameters",
    ).map((p) => [p.name, p.in]),
    [['id', 'path']],
  );
  assert.equal(
    must(
      must(doc.paths['/api/v1/sightings'], "doc.paths['/api/v1/sightings']").post,
      "doc.paths['/api/v1/sightings'].post",
    )['x-stixgate-scope'],
    'sightings',
  );
  assert.equal(
    must(
      must(doc.paths['/api/v1/deliveries'], "doc.paths['/api/v1/deliveries']").get,
      "doc.paths['/api/v1/deliveries'].get",
    )['x-stixgate-scope'],
    'lookup',
  );
  assert.deepEqual(
    must(
      must(
        must(doc.paths['/api/v1/deliveries'], "doc.paths['/api/v1/deliveries']").get,
        "doc.paths['/api/v1/deliveries'].get",
      ).parameters,
      "doc.paths['/api/v1/deliveries'].get.parameters",
    ).map((p) => [p.name, p.in]),
    [['value', 'query']],
  );
  assert.ok(
    (
      must(
        must(doc.paths['/api/v1/sightings'], "doc.paths['/api/v1/sightings']").post,
        "doc.paths['/api/v1/sightings'].post",
      ) as unknown as { requestBody: unknown }
    ).requestBody,
    'a body schema',
  );
  assert.deepEqual(
    must(must(doc.paths['/healthz'], "doc.paths['/healthz']").get, "doc.paths['/healthz'].get").security,
    [],
    'no key',
  );
  // a text answer with its media type, a 304 without a body, header parameters, Basic credentials
  const edl = must(
    must(doc.paths['/edl/{list}/{kind}'], "doc.paths['/edl/{list}/{kind}']").get,
    "doc.paths['/edl/{list}/{kind}'].get",
  );
  assert.deepEqual(
    must(must(edl, 'edl').parameters, 'edl.parameters').map((p) => [p.name, p.in]),
    [
      ['list', 'path'],
      ['kind', 'path'],
      ['if-none-match', 'header'],
      ['if-modified-since', 'header'],
    ],
  );
  assert.deepEqual(Object.keys((must(edl.responses['200'], "edl.responses['200']") as { content: object }).content), [
    'text/plain; charset=utf-8',
  ]);
  assert.equal((must(edl.responses['304'], "edl.responses['304']") as { content?: object }).content, undefined);
  assert.deepEqual(must(edl, 'edl').security, [{ bearer: [] }, { apiKey: [] }, { basic: [] }]);
  assert.equal(must(edl['x-stixgate-scope'], "edl['x-stixgate-scope']"), 'edl');
});

test('a route registered by any plugin, at any time before start, is described without an edit', async () => {
  const app = fastify();
  const describe = openApiCollector(app, { title: 't', version: '1' });
  await app.register(
    async (sub) => {
      sub.post(
        '/api/v1/example/:name',
        {
          schema: {
            params: { type: 'object', properties: { name: { type: 'string' } } },
            body: { type: 'object', properties: { a: { type: 'integer' } } },
          },
        },
        async () => ({}),
      );
    },
    { prefix: '' },
  );
  app.get('/later', async () => 'x');
  await app.ready();
  const doc = describe() as Doc;
  assert.deepEqual(Object.keys(doc.paths).sort(), ['/api/v1/example/{name}', '/later']);
  assert.deepEqual(
    must(
      must(doc.paths['/api/v1/example/{name}'], "doc.paths['/api/v1/example/{name}']").post,
      "doc.paths['/api/v1/example/{name}'].post",
    ).parameters,
    [{ name: 'name', in: 'path', required: true, schema: { type: 'string' } }],
  );
  const result = await new Validator().validate(doc as never);
  assert.equal(result.valid, true, JSON.stringify(result.errors));
  await app.close();
});
