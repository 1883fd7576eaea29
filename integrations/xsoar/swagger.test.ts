import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { PROJECT_ROOT } from '../../test/helpers/corpus.js';
import type { HttpClient, HttpResponse } from '../../src/http/types.js';
import { xsoarSink } from './index.js';
import { KEY, config, ictx, records, runContext, startSim } from './test-kit.js';
import { must } from '../../test/helpers/must.js';

/**
 * The simulator's and the sink's JSON against the XSOAR server swagger (SINK_APIS.md S52): every
 * request body the sink sends and every response the simulator gives on the paths the sink uses
 * must fit the swagger definitions. Requests may only use declared properties; responses may add
 * the runtime fields SINK_APIS.md §6.3 records as observed on real servers.
 */

const dir = process.env.STIXGATE_SPECS_DIR ?? resolve(PROJECT_ROOT, '..', 'shared', 'specs');
const file = join(dir, 'xsoar-server-api-swagger.json');
const skip = existsSync(file)
  ? false
  : `XSOAR swagger ${file} not present (set STIXGATE_SPECS_DIR to the folder holding xsoar-server-api-swagger.json)`;

/** Runtime IocObject fields seen on real servers but absent from the swagger (§6.3 [OBS]). */
const OBSERVED_IOC_FIELDS = [
  'expiration',
  'expirationStatus',
  'expirationSource',
  'manualExpirationTime',
  'sourceBrands',
  'sourceInstances',
  'investigationIDs',
  'reliability',
];

type S = {
  $ref?: string;
  type?: string;
  format?: string;
  properties?: Record<string, S>;
  items?: S;
  additionalProperties?: S | boolean;
};
type Swagger = {
  definitions: Record<string, S>;
  paths: Record<
    string,
    Record<string, { parameters?: { in: string; schema?: S }[]; responses: Record<string, { schema?: S }> }>
  >;
};

/** Problems of `v` against swagger schema `s` (Go's `interface{}` is `{type: object}` without properties). */
function check(sw: Swagger, s: S, v: unknown, path: string, strict: boolean, out: string[]): void {
  if (s.$ref) {
    const name = s.$ref.replace('#/definitions/', '');
    const def = sw.definitions[name];
    if (!def) return void out.push(`${path}: unknown definition ${name}`);
    if (name === 'IocObject' && !strict && v && typeof v === 'object') {
      const extra = Object.fromEntries(OBSERVED_IOC_FIELDS.map((f) => [f, {} as S]));
      check(sw, { ...def, properties: { ...def.properties, ...extra } }, v, path, true, out);
      return;
    }
    check(sw, def, v, path, strict, out);
    return;
  }
  if (v === null && (s.type === 'array' || s.type === 'object' || s.$ref)) return; // Go nil slice / map / pointer
  switch (s.type) {
    case undefined:
      return;
    case 'string':
      if (typeof v !== 'string') return void out.push(`${path}: expected string, got ${JSON.stringify(v)}`);
      if (s.format === 'date-time' && !Number.isFinite(Date.parse(v))) out.push(`${path}: not a date-time: ${v}`);
      return;
    case 'integer':
      if (!Number.isInteger(v)) out.push(`${path}: expected integer, got ${JSON.stringify(v)}`);
      return;
    case 'number':
      if (typeof v !== 'number') out.push(`${path}: expected number, got ${JSON.stringify(v)}`);
      return;
    case 'boolean':
      if (typeof v !== 'boolean') out.push(`${path}: expected boolean, got ${JSON.stringify(v)}`);
      return;
    case 'array':
      if (!Array.isArray(v)) return void out.push(`${path}: expected array, got ${JSON.stringify(v)}`);
      for (const [i, x] of v.entries()) check(sw, s.items ?? {}, x, `${path}[${i}]`, strict, out);
      return;
    case 'object': {
      if (!s.properties && !s.additionalProperties) return; // interface{}
      if (typeof v !== 'object' || v === null || Array.isArray(v))
        return void out.push(`${path}: expected object, got ${JSON.stringify(v)}`);
      for (const [k, x] of Object.entries(v)) {
        const p =
          s.properties?.[k] ?? (typeof s.additionalProperties === 'object' ? s.additionalProperties : undefined);
        if (p) check(sw, p, x, `${path}.${k}`, strict, out);
        else if (strict || s.additionalProperties === false) out.push(`${path}.${k}: not declared in the swagger`);
      }
      return;
    }
    default:
      out.push(`${path}: unsupported schema type ${s.type}`);
  }
}

interface Exchange {
  path: string;
  status: number;
  req: unknown;
  res: unknown;
}

/** An HttpClient that records each JSON exchange (the response body is read once and replayed). */
function recording(real: HttpClient, log: Exchange[]): HttpClient {
  return {
    async request(req) {
      const res = await real.request(req);
      const text = await res.text();
      log.push({
        path: new URL(req.url).pathname,
        status: res.status,
        req: JSON.parse(String(req.body)),
        res: text ? JSON.parse(text) : undefined,
      });
      const replay: HttpResponse = {
        ...res,
        body: (async function* () {
          yield Buffer.from(text);
        })(),
        text: async () => text,
        json: async () => JSON.parse(text),
        dump: async () => undefined,
      };
      return replay;
    },
  };
}

test("the sink's requests and the simulator's responses fit the XSOAR swagger", { skip }, async (t) => {
  const sw = JSON.parse(readFileSync(file, 'utf8')) as Swagger;
  const { base } = await startSim(t);
  const real = runContext(t);
  const log: Exchange[] = [];
  const ctx = { ...real, http: recording(real.http, log) };
  const pinned = xsoarSink.create(config(base, { pin_verdict: true }), ictx);
  await pinned.upsert(
    records(['198.51.100.7', 'evil.example', 'http://evil.example/x'], 'upsert', 80, {
      labels: ['c2'],
      valid_until: '2027-01-01T00:00:00Z',
    }),
    ctx,
  );
  // a pinned verdict is a manual score: the removal expires stixgate's contribution (feed/json)
  await pinned.remove(records(['evil.example'], 'remove'), ctx);
  // an indicator stixgate alone contributed to is deleted (batchDelete)
  const plain = xsoarSink.create(config(base), ictx);
  await plain.upsert(records(['gone.example']), ctx);
  await plain.remove(records(['gone.example'], 'remove'), ctx);
  await must(pinned.probe, 'pinned.probe').call(pinned, ctx);
  // /indicator/create is not used by the sink; its response shape is checked here all the same
  const c = await fetch(`${base}/indicator/create`, {
    method: 'POST',
    headers: { Authorization: KEY },
    body: JSON.stringify({ indicator: { value: 'x.example', indicator_type: 'Domain', score: 2 }, seenNow: true }),
  });
  log.push({
    path: '/indicator/create',
    status: c.status,
    req: { indicator: { value: 'x.example', indicator_type: 'Domain', score: 2 }, seenNow: true },
    res: await c.json(),
  });

  assert.deepEqual([...new Set(log.map((x) => x.path))].sort(), [
    '/indicator/create',
    '/indicator/edit',
    '/indicators/batchDelete',
    '/indicators/feed/json',
    '/indicators/search',
  ]);
  const problems: string[] = [];
  for (const x of log) {
    const op = sw.paths[x.path]?.post;
    if (!op) {
      problems.push(`${x.path}: not a POST path of the swagger`);
      continue;
    }
    const body = op.parameters?.find((p) => p.in === 'body')?.schema;
    if (body) check(sw, body, x.req, `${x.path} request`, true, problems);
    const resp = op.responses[String(x.status)];
    if (!resp)
      problems.push(
        `${x.path}: status ${x.status} is not a documented response (${Object.keys(op.responses).join(', ')})`,
      );
    else if (resp.schema) check(sw, resp.schema, x.res, `${x.path} response`, false, problems);
    else if (x.res !== undefined) problems.push(`${x.path}: a body where the swagger documents none`);
  }
  assert.deepEqual(problems, []);
  assert.ok(
    log.some((x) => x.path === '/indicators/search' && (x.res as { iocObjects: unknown[] }).iocObjects.length > 0),
    'a non-empty search was checked',
  );
});

test('the checker finds undeclared request properties and wrong types', { skip }, () => {
  const sw = JSON.parse(readFileSync(file, 'utf8')) as Swagger;
  const out: string[] = [];
  check(
    sw,
    { $ref: '#/definitions/genericIndicatorUpdateBatch' },
    { ids: [1], doNotWhitelist: 'yes', whitelist: true },
    'b',
    true,
    out,
  );
  assert.deepEqual(out, [
    'b.ids[0]: expected string, got 1',
    'b.doNotWhitelist: expected boolean, got "yes"',
    'b.whitelist: not declared in the swagger',
  ]);
  const res: string[] = [];
  check(
    sw,
    { $ref: '#/definitions/IndicatorResult' },
    { iocObjects: [{ id: '1', version: '2', expiration: 'x', bogus: 1 }], total: 1 },
    'r',
    false,
    res,
  );
  assert.deepEqual(res, [
    'r.iocObjects[0].version: expected integer, got "2"',
    'r.iocObjects[0].bogus: not declared in the swagger',
  ]);
});
