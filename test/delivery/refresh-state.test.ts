import assert from 'node:assert/strict';
import { test } from 'node:test';
import { refreshStateOf } from '../../src/delivery/passes.js';
import { isAttributeName, mapFields } from '../../src/delivery/records.js';

test('the refresh cursor is read back field by field; one without `due` starts a new cycle', () => {
  assert.deepEqual(refreshStateOf('{"due":5,"started":3,"after":"x"}'), { due: 5, started: 3, after: 'x' });
  assert.deepEqual(refreshStateOf('{"due":5,"started":"3"}'), { due: 5 });
  assert.equal(refreshStateOf('{"started":3}'), undefined);
  assert.equal(refreshStateOf('[]'), undefined);
  assert.throws(() => refreshStateOf('{'), SyntaxError);
});

test('a mapping names record attributes only; a name that is none yields no field', () => {
  assert.equal(isAttributeName('value'), true);
  assert.equal(isAttributeName('toString'), false);
  const r = {
    key: 'k',
    op: 'upsert' as const,
    observable: { type: 'ipv4-addr' as const, value: '192.0.2.1' },
    score: 50,
    object: { type: 'indicator', id: 'indicator--1' },
  };
  // the record shape the mapping reads (fields are what it produces)
  const out = mapFields({ v: 'value', c: '=constant', odd: 'toString' }, r as Parameters<typeof mapFields>[1]);
  assert.deepEqual(out, { v: '192.0.2.1', c: 'constant' });
});
