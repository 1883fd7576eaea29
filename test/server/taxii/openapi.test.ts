import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Validator } from '@seriousme/openapi-schema-validator';
import { taxiiRig } from './rig.js';

test('the TAXII routes are in the OpenAPI description, with their parameters, scope and TAXII error bodies; the document stays valid OpenAPI 3.1', async (t) => {
  const rig = await taxiiRig(t);
  const doc = (await rig.app.inject({ url: '/api/openapi.json' })).json();
  const result = await new Validator().validate(doc as never);
  assert.deepEqual(result.errors ?? [], []);
  const C = '/taxii2/{root}/collections/{collection}';
  assert.deepEqual(
    Object.keys(doc.paths)
      .filter((p) => p.startsWith('/taxii2/'))
      .sort(),
    [
      '/taxii2/',
      '/taxii2/{root}/',
      '/taxii2/{root}/collections/',
      `${C}/`,
      `${C}/manifest/`,
      `${C}/objects/`,
      `${C}/objects/{object}/`,
      `${C}/objects/{object}/versions/`,
      '/taxii2/{root}/status/{status}/',
    ].sort(),
  );
  assert.deepEqual(Object.keys(doc.paths[`${C}/objects/`]).sort(), ['get', 'post']);
  const get = doc.paths[`${C}/objects/`].get;
  assert.equal(get['x-stixgate-scope'], 'taxii');
  assert.deepEqual(get.parameters.map((p: { name: string; in: string }) => `${p.in}:${p.name}`).sort(), [
    'path:collection',
    'path:root',
    'query:added_after',
    'query:limit',
    'query:match[id]',
    'query:match[spec_version]',
    'query:match[type]',
    'query:match[version]',
    'query:next',
  ]);
  assert.deepEqual(get.responses['406'].content['application/json'].schema.required, ['title', 'http_status']);
  assert.ok(doc.paths[`${C}/objects/`].post.requestBody, 'the POST body');
});
