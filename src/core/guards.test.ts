import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { errorCode, isRecord, isStringArray } from './guards.js';
import { entry } from './indexed.js';

describe('type guards', () => {
  it('isRecord admits plain objects only', () => {
    assert.equal(isRecord({ a: 1 }), true);
    assert.equal(isRecord(Object.create(null)), true);
    for (const v of [null, undefined, [], 'x', 1, true]) assert.equal(isRecord(v), false, String(v));
  });

  it('isStringArray admits arrays of strings only', () => {
    assert.equal(isStringArray([]), true);
    assert.equal(isStringArray(['a', 'b']), true);
    assert.equal(isStringArray(['a', 1]), false);
    assert.equal(isStringArray('a'), false);
  });

  it('errorCode reads the string code of a thrown system error', () => {
    const e = Object.assign(new Error('gone'), { code: 'ENOENT' });
    assert.equal(errorCode(e), 'ENOENT');
    assert.equal(errorCode(Object.assign(new Error('odd'), { code: 7 })), undefined);
    assert.equal(errorCode(new Error('plain')), undefined);
    assert.equal(errorCode('text'), undefined);
    assert.equal(errorCode(null), undefined);
  });

  it('entry reads a present key and throws a RangeError naming an absent one', () => {
    const m = new Map([['a', 0]]);
    assert.equal(entry(m, 'a'), 0);
    assert.throws(() => entry(m, 'b'), { name: 'RangeError', message: 'no entry for b' });
  });
});
