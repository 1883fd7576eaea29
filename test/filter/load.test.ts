/**
 * Loading warninglists from fixture files with problems: each problem names the file, the JSON
 * path and the reason; the bad entry or list is dropped and everything else still loads.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  buildWarninglistMatcher,
  loadWarninglistDocs,
  parseWarninglist,
  parseWarninglistText,
  dedupeByName,
} from '../../src/filter/warninglists.js';
import { fetchWarninglists } from '../../src/filter/fetch.js';
import { normaliseObservable } from '../../src/core/observable.js';
import type { ObservableType } from '../../src/core/stix.js';
import type { HttpClient } from '../../src/http/types.js';
import { must } from '../helpers/must.js';

const FIX = fileURLToPath(new URL('./fixtures/lists', import.meta.url));
const file = (id: string) => join(FIX, id, 'list.json');

function o(type: ObservableType, v: string) {
  const r = normaliseObservable(type, v);
  assert.ok(r.ok, v);
  return r.observable;
}

test('a directory with bad files: every problem named, the good lists and entries loaded', async () => {
  const r = await buildWarninglistMatcher({ paths: [FIX] });
  const msgs = r.problems.map((p) => p.message);
  const byFile = (id: string) => r.problems.filter((p) => p.origin === file(id));

  const [json] = byFile('bad-json');
  assert.equal(must(json, 'json').path, '$');
  assert.equal(must(json, 'json').fatal, true);
  assert.match(must(json, 'json').message, /bad-json\/list\.json: at \$: not valid JSON/);

  const [type] = byFile('unknown-type');
  assert.equal(must(type, 'type').path, '$.type');
  assert.match(
    must(type, 'type').reason,
    /unknown type "glob" \(expected one of string, substring, hostname, cidr, regex\)/,
  );

  assert.deepEqual(
    byFile('no-name').map((p) => [p.path, p.fatal]),
    [['$.name', true]],
  );

  const cidr = byFile('bad-cidr');
  assert.deepEqual(
    cidr.map((p) => [p.path, p.fatal]),
    [
      ['$.list[2]', false],
      ['$.list[3]', false],
      ['$.list[5]', false],
    ],
    'indices in the document, the empty entry counted',
  );
  assert.match(
    must(cidr[0], 'cidr[0]').message,
    /bad-cidr\/list\.json: at \$\.list\[2\]: invalid CIDR or IP address "300\.1\.1\.1\/8"/,
  );
  assert.match(must(cidr[1], 'cidr[1]').reason, /"192\.168\.0\.0\/33"/);

  const regex = byFile('bad-regex');
  assert.deepEqual(
    regex.map((p) => p.path),
    ['$.list[0]', '$.list[1]'],
  );
  assert.match(must(regex[0], 'regex[0]').reason, /regex refused: backreferences are not supported/);
  assert.match(must(regex[1], 'regex[1]').reason, /unknown flag "Q"/);

  const entries = byFile('bad-entries');
  assert.deepEqual(
    entries.map((p) => p.path),
    ['$.list[1]', '$.list[2]', '$.matching_attributes[1]'],
  );
  assert.match(must(entries[0], 'entries[0]').reason, /expected a string, got number 12/);

  assert.equal(r.problems.length, 11, msgs.join('\n'));
  // loaded: bad-cidr (4 good entries), good-string, bad-regex (1 pattern), bad-entries (2 hosts)
  assert.deepEqual(r.matcher.lists.map((l) => [l.id, l.entries]).sort(), [
    ['bad-cidr', 3],
    ['bad-entries', 2],
    ['bad-regex', 1],
    ['good-string', 2],
  ]);
  const ids = (x: ReturnType<typeof o>) => r.matcher.match(x).map((h) => h.id);
  assert.deepEqual(ids(o('ipv4-addr', '10.200.1.1')), ['bad-cidr']);
  assert.deepEqual(ids(o('ipv4-addr', '172.31.255.255')), ['bad-cidr']);
  assert.deepEqual(ids(o('ipv4-addr', '172.32.0.0')), []);
  assert.deepEqual(ids(o('ipv4-addr', '192.168.1.1')), [], 'the /33 entry was dropped, not widened');
  assert.deepEqual(ids(o('ipv6-addr', '2001:db8:1:ffff::1')), ['bad-cidr']);
  assert.deepEqual(ids(o('ipv6-addr', '2001:db8:2::1')), []);
  assert.deepEqual(ids(o('domain-name', 'example.org')), ['good-string']);
  assert.deepEqual(ids(o('domain-name', 'www.example.org')), []);
  assert.deepEqual(ids(o('email-addr', 'OK12@example.com')), ['bad-regex']);
  assert.deepEqual(ids(o('domain-name', 'a.good.example')), ['bad-entries']);
});

test('a single file path loads that file; a missing path is reported', async () => {
  const r = await buildWarninglistMatcher({ paths: [file('good-string'), join(FIX, 'does-not-exist')] });
  assert.deepEqual(
    r.matcher.lists.map((l) => l.id),
    ['good-string'],
  );
  assert.equal(r.problems.length, 1);
  assert.match(must(r.problems[0], 'r.problems[0]').message, /does-not-exist: at \$: cannot read: ENOENT/);
});

test('parseWarninglist: documents parsed elsewhere, origins named, type defaults to string, list as object (MISP comments)', () => {
  const bad = parseWarninglist([1, 2], 'https://lists.example/x.json');
  assert.equal(bad.ok, false);
  assert.equal(
    must(bad.problems[0], 'bad.problems[0]').message,
    'https://lists.example/x.json: at $: expected a JSON object, got an array',
  );
  const noList = parseWarninglist({ name: 'n', type: 'cidr', list: 'x' }, 'u');
  assert.equal(
    must(noList.problems[0], 'noList.problems[0]').message,
    'u: at $.list: expected an array of strings, got the string "x"',
  );
  const def = parseWarninglist(
    { name: 'n', list: { 'a.example.com': 'a comment' } },
    'https://h/lists/my-list/list.json',
  );
  assert.ok(def.ok);
  assert.equal(def.list.type, 'string');
  assert.equal(def.list.id, 'my-list');
  assert.deepEqual(def.list.list, ['a.example.com']);
  const text = parseWarninglistText('{"name": "n", "list": [], "__proto__": {"x": 1}}', 'f');
  assert.ok(text.ok);
  const docs = loadWarninglistDocs([
    { json: { name: 'a', type: 'cidr', list: ['1.2.3.0/24'] }, origin: 'u1' },
    { json: { type: 'cidr' }, origin: 'u2' },
  ]);
  assert.equal(docs.lists.length, 1);
  assert.equal(
    must(docs.problems[0], 'docs.problems[0]').message,
    'u2: at $.name: expected a non-empty string, got nothing',
  );
});

test('duplicate names: the highest version is kept, the other reported; exclude by id or name', async () => {
  const a = parseWarninglist({ name: 'Same', version: 1, type: 'string', list: ['a.example.com'] }, 'one');
  const b = parseWarninglist({ name: 'Same', version: 2, type: 'string', list: ['b.example.com'] }, 'two');
  assert.ok(a.ok && b.ok);
  const d = dedupeByName([a.list, b.list]);
  assert.deepEqual(
    d.lists.map((l) => l.origin),
    ['two'],
  );
  assert.match(
    must(d.problems[0], 'd.problems[0]').message,
    /^one: at \$\.name: list "Same" also loaded from two \(version 2 kept, 1 dropped\)/,
  );
  const r1 = await buildWarninglistMatcher({ paths: [FIX], exclude: ['bad-cidr', 'Fixture strings'] });
  assert.deepEqual(r1.matcher.lists.map((l) => l.id).sort(), ['bad-entries', 'bad-regex']);
});

test('fetchWarninglists: each URL parsed with its URL as origin; a failing URL is reported, the others kept', async () => {
  const bodies: Record<string, string> = {
    'https://lists.example/a.json': JSON.stringify({ name: 'A', type: 'hostname', list: ['a.example'] }),
    'https://lists.example/bad.json': '{"name":',
  };
  const http: HttpClient = {
    async request(req) {
      const body = bodies[req.url];
      if (body === undefined) throw new Error(`HTTP 404 from ${req.url}`);
      return {
        status: 200,
        headers: {},
        url: req.url,
        body: (async function* () {})(),
        text: async () => body,
        json: async () => JSON.parse(body),
        dump: async () => {},
      };
    },
  };
  const r = await fetchWarninglists(http, [
    'https://lists.example/a.json',
    'https://lists.example/bad.json',
    'https://lists.example/gone.json',
  ]);
  assert.deepEqual(
    r.lists.map((l) => [l.id, l.origin]),
    [['a', 'https://lists.example/a.json']],
  );
  assert.deepEqual(
    r.problems.map((p) => p.origin),
    ['https://lists.example/bad.json', 'https://lists.example/gone.json'],
  );
  assert.match(must(r.problems[1], 'r.problems[1]').message, /gone\.json: at \$: cannot fetch: HTTP 404/);
  const m = await buildWarninglistMatcher({ lists: r.lists });
  assert.deepEqual(
    m.matcher.match(o('domain-name', 'x.a.example')).map((h) => h.list),
    ['A'],
  );
});
