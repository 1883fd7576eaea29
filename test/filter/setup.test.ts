/** Building the publish filter from configuration; a reload that loads nothing keeps the lists in use. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPublishFilter, reloadWarninglists } from '../../src/filter/setup.js';
import { validate } from '../../src/core/schema.js';
import { warninglistsSchema } from '../../src/filter/schema.js';
import type { HttpClient } from '../../src/http/types.js';

test('createPublishFilter: paths, URLs, exclude, allowlist, trusted sources; reload keeps lists when nothing loads', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'stixgate-wl-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'lists', 'nets'), { recursive: true });
  writeFileSync(
    join(dir, 'lists', 'nets', 'list.json'),
    JSON.stringify({ name: 'Nets', version: 1, description: '', type: 'cidr', list: ['198.51.100.0/24'] }),
  );
  const http: HttpClient = {
    async request(req) {
      const body = JSON.stringify({ name: 'Remote', type: 'hostname', list: ['remote.example'] });
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
  const cfg = validate(warninglistsSchema, { paths: [dir], urls: ['https://lists.example/remote.json'] });
  assert.ok(cfg.ok);
  const { filter, problems, matcher } = await createPublishFilter(
    { warninglists: cfg.value, publish_allowlist: ['blocked.example'] },
    ['vip'],
    http,
  );
  assert.deepEqual(problems, []);
  assert.deepEqual(matcher.lists.map((l) => l.name).sort(), ['Nets', 'Remote']);
  assert.equal(filter.check({ type: 'ipv4-addr', value: '198.51.100.7' }, ['feed']).publish, false);
  assert.equal(filter.check({ type: 'ipv4-addr', value: '198.51.100.7' }, ['feed', 'vip']).publish, true);
  assert.deepEqual(filter.check({ type: 'domain-name', value: 'a.remote.example' }, []).lists, ['Remote']);
  assert.deepEqual(filter.check({ type: 'domain-name', value: 'blocked.example' }, ['vip']).lists, [
    'publish_allowlist',
  ]);

  // the directory disappears and the URL fails: nothing loads, the previous lists stay
  rmSync(join(dir, 'lists'), { recursive: true });
  const failing: HttpClient = {
    request: async () => {
      throw new Error('HTTP 503');
    },
  };
  const r = await reloadWarninglists(filter, cfg.value, failing);
  assert.equal(r.swapped, false);
  assert.equal(r.problems.length, 2);
  assert.equal(filter.check({ type: 'ipv4-addr', value: '198.51.100.7' }, []).publish, false);

  // disabled by configuration: the empty result is what was asked for
  const off = validate(warninglistsSchema, { enabled: false });
  assert.ok(off.ok);
  const r2 = await reloadWarninglists(filter, off.value);
  assert.equal(r2.swapped, true);
  assert.equal(filter.check({ type: 'ipv4-addr', value: '198.51.100.7' }, []).publish, true);
});
