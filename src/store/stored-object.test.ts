import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StixgateError } from '../core/errors.js';
import { decodeObservables } from './embedded/values.js';
import { hasStixIdentity, storedObject } from './stored-object.js';

describe('stored objects read back', () => {
  it('parses an object with a type and an id', () => {
    const o = storedObject('{"type":"ipv4-addr","id":"ipv4-addr--1","value":"192.0.2.1"}');
    assert.deepEqual(o, { type: 'ipv4-addr', id: 'ipv4-addr--1', value: '192.0.2.1' });
  });

  it('refuses damaged stored JSON with a store-corrupt error, not an object that fails later', () => {
    for (const json of ['null', '[]', '"x"', '{"type":"indicator"}', '{"id":"x--1","type":3}']) {
      assert.throws(
        () => storedObject(json),
        (e: unknown) => e instanceof StixgateError && e.code === 'STIXGATE_ERR_STORE_CORRUPT',
        json,
      );
      assert.equal(hasStixIdentity(JSON.parse(json)), false, json);
    }
  });

  it('refuses a stored observable list naming an unknown type', () => {
    assert.deepEqual(decodeObservables('ipv4-addr\t192.0.2.1'), [{ type: 'ipv4-addr', value: '192.0.2.1' }]);
    assert.throws(
      () => decodeObservables('ipv4-addr\t192.0.2.1\nbogus\tx'),
      (e: unknown) => e instanceof StixgateError && e.code === 'STIXGATE_ERR_STORE_CORRUPT' && /bogus/.test(e.message),
    );
  });
});
