import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_COLLECTIONS, TAXII, TAXII_KEYS, bearer, taxiiRig } from './rig.js';

const INBOX = `/taxii2/default/collections/${DEFAULT_COLLECTIONS.inbox.id}`;
const OBJ = 'indicator--00000000-0000-4000-8000-000000000001';
const STATUS = '00000000-0000-4000-8000-000000000002';

test('FAULTS A2 for the TAXII routes: every path and method; no key 401 where no anonymous reader is admitted, a key without the scope 403, then 405 with Allow', async (t) => {
  const rig = await taxiiRig(t);
  await rig.app.ready();
  const C = '/taxii2/:root/collections/:collection';
  const matrix: { url: string; path: string; methods: string[]; anonymous?: boolean }[] = [
    { url: '/taxii2/', path: '/taxii2/', methods: ['GET', 'HEAD'], anonymous: true },
    { url: '/taxii2/default/', path: '/taxii2/:root/', methods: ['GET', 'HEAD'], anonymous: true },
    {
      url: '/taxii2/default/collections/',
      path: '/taxii2/:root/collections/',
      methods: ['GET', 'HEAD'],
      anonymous: true,
    },
    { url: `${INBOX}/`, path: `${C}/`, methods: ['GET', 'HEAD'] },
    { url: `${INBOX}/objects/`, path: `${C}/objects/`, methods: ['GET', 'HEAD', 'POST'] },
    { url: `${INBOX}/manifest/`, path: `${C}/manifest/`, methods: ['GET', 'HEAD'] },
    { url: `${INBOX}/objects/${OBJ}/`, path: `${C}/objects/:object/`, methods: ['GET', 'HEAD'] },
    { url: `${INBOX}/objects/${OBJ}/versions/`, path: `${C}/objects/:object/versions/`, methods: ['GET', 'HEAD'] },
    { url: `/taxii2/default/status/${STATUS}/`, path: '/taxii2/:root/status/:status/', methods: ['GET', 'HEAD'] },
  ];
  // the matrix covers every TAXII path: as many route-tree nodes under /taxii2/ as rows, each row a route
  const tree = rig.app.printRoutes({ commonPrefix: false }).split('\n');
  const from = tree.findIndex((l) => l.includes('/taxii2/'));
  // the TAXII subtree: from its top-level node to the next top-level one
  const end = tree.findIndex((l, i) => i > from && /^(├|└)── /.test(l));
  const nodes = tree
    .slice(from, end < 0 ? undefined : end)
    .filter((l) => /\((GET|POST)/.test(l) && (/^(├|└)── \/taxii2\//.test(l) || /^(│| ) {3}/.test(l)));
  assert.equal(nodes.length, matrix.length, nodes.join('\n'));
  for (const row of matrix) assert.ok(rig.app.hasRoute({ method: row.methods[0] as 'GET', url: row.path }), row.path);
  let checked = 0;
  for (const row of matrix) {
    for (const method of ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const) {
      const call = (headers: Record<string, string>) =>
        rig.app.inject({
          method,
          url: row.url,
          headers: { accept: TAXII, 'content-type': TAXII, ...headers },
          payload: method === 'GET' || method === 'HEAD' ? undefined : '{"objects":[]}',
        });
      if (!row.anonymous) {
        const none = await call({});
        assert.equal(none.statusCode, 401, `${method} ${row.path} without a key`);
        if (method !== 'HEAD')
          assert.equal(none.json().error_code ?? none.json().error?.code, 'STIXGATE_ERR_API_UNAUTHORIZED');
        assert.equal(
          (await call(bearer('k-unknown-key-000000000000'))).statusCode,
          401,
          `${method} ${row.path} unknown key`,
        );
        checked += 2;
      }
      assert.equal(
        (await call(bearer(TAXII_KEYS.lookup))).statusCode,
        403,
        `${method} ${row.path} without the taxii scope`,
      );
      const right = await call(bearer(TAXII_KEYS.writer));
      if (row.methods.includes(method))
        assert.ok(
          [200, 202, 404].includes(right.statusCode),
          `${method} ${row.path}: ${right.statusCode} ${right.body}`,
        );
      else {
        assert.equal(right.statusCode, 405, `${method} ${row.path}`);
        assert.equal(right.headers.allow, row.methods.join(', '));
      }
      checked += 2;
    }
  }
  assert.equal(checked, 9 * 7 * 2 + 6 * 7 * 2);
});
