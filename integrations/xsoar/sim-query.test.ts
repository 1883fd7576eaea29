import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseQuery, QueryError } from './sim-query.js';
import { valuesQuery } from './client.js';

const rec = (o: Record<string, unknown>) => (f: string) => o[f];

test("the sink's value queries match exactly the values asked for, quotes and backslashes included", () => {
  const values = ['1.2.3.4', 'http://x.example/a"b', 'c:\\temp\\x', 'a b.example', 'Evil.Example', 'x*y'];
  const q = parseQuery(valuesQuery(values));
  for (const v of values) assert.equal(q(rec({ value: v })), true, v);
  assert.equal(q(rec({ value: 'evil.example' })), true, 'case-insensitive');
  for (const v of ['1.2.3.40', 'http://x.example/a', 'c:tempx', 'xzy', 'a'])
    assert.equal(q(rec({ value: v })), false, v);
});

test('operators: AND/OR/NOT precedence, negation, comparisons, lists, globs; errors name the problem', () => {
  const i = rec({ value: '10.0.0.1', type: 'IP', score: 2, sourceBrands: ['a', 'b'] });
  const cases: [string, boolean][] = [
    ['type:IP score:2', true],
    ['type:IP AND score:3', false],
    ['type:Domain OR score:>1', true],
    ['NOT type:IP OR score:<=2', true],
    ['-type:IP', false],
    ['(type:Domain OR type:ip) AND sourceBrands:b', true],
    ['sourceBrands:(x y "a")', true],
    ['value:10.0.*', true],
    ['10.0.0.1', true],
    ['score:>=3', false],
    ['', true],
  ];
  for (const [q, want] of cases) assert.equal(parseQuery(q)(i), want, q);
  for (const [q, re] of [
    ['value:("a"', /missing "\)"/],
    ['type:', /has no value/],
    ['score:>x', /needs a number/],
    ['"open', /unterminated quote/],
    ['a )', /unexpected "\)"/],
  ] as const) {
    assert.throws(
      () => parseQuery(q),
      (e: unknown) => e instanceof QueryError && re.test(e.message),
      q,
    );
  }
});
