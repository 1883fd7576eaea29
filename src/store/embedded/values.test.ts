import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { objectObservables } from '../../core/object-observables.js';
import type { StixObject } from '../../core/stix.js';
import { encodeObservables, valuesOf } from './values.js';

describe('store observables', () => {
  it("the store encodes an object's observables; valuesOf reads one or many encoded lines", () => {
    const ind = {
      type: 'indicator',
      id: 'indicator--1',
      pattern_type: 'stix',
      pattern: "[domain-name:value = 'Evil.Example.com']",
    } as unknown as StixObject;
    assert.equal(encodeObservables(objectObservables(ind)), 'domain-name\tevil.example.com');
    assert.deepEqual(valuesOf(encodeObservables(objectObservables(ind))), ['evil.example.com']);
    assert.deepEqual(valuesOf('file\taa\nfile\tbb\nx509-certificate\taa'), ['aa', 'bb']);
    assert.deepEqual(valuesOf(null), []);
    assert.equal(encodeObservables([]), null);
  });
});
