import { test } from 'node:test';
import assert from 'node:assert/strict';
import { indicatorFromObservable, indicatorIdForObservable } from '../../src/core/indicator.js';
import { indicatorIdForPattern, deterministicId } from '../../src/core/ids.js';
import { patternFor } from '../../src/core/pattern.js';
import type { Observable } from '../../src/core/stix.js';

const NOW = '2024-05-01T10:00:00.000Z';
const IP: Observable = { type: 'ipv4-addr', value: '1.2.3.4' };

test('indicatorFromObservable: minimal indicator, fixed key order', () => {
  const ind = indicatorFromObservable(IP, { now: NOW });
  const id = indicatorIdForPattern("[ipv4-addr:value = '1.2.3.4']");
  assert.equal(id, deterministicId('indicator', "[ipv4-addr:value = '1.2.3.4']"));
  assert.equal(
    JSON.stringify(ind),
    JSON.stringify({
      type: 'indicator',
      spec_version: '2.1',
      id,
      created: NOW,
      modified: NOW,
      pattern: "[ipv4-addr:value = '1.2.3.4']",
      pattern_type: 'stix',
      pattern_version: '2.1',
      valid_from: NOW,
      name: '1.2.3.4',
      indicator_types: ['malicious-activity'],
    }),
  );
});

test('indicatorFromObservable: every option', () => {
  const refs = [{ source_name: 'feed', url: 'https://feed.example/1' }];
  const opts = {
    now: NOW,
    validFrom: '2024-04-01T00:00:00Z',
    validUntil: '2024-06-01T00:00:00Z',
    name: 'bad IP',
    description: 'seen scanning',
    indicatorTypes: ['anomalous-activity', 'compromised'],
    labels: ['scanner'],
    confidence: 70,
    markingRefs: ['marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb'],
    createdByRef: 'identity--0b1d7d5c-5b1a-4f27-9b8e-2f3b2e4c0b11',
    externalReferences: refs,
  };
  const ind = indicatorFromObservable({ type: 'file', value: 'd41d8cd98f00b204e9800998ecf8427e', hash: 'MD5' }, opts);
  assert.deepEqual(Object.keys(ind), [
    'type',
    'spec_version',
    'id',
    'created',
    'modified',
    'pattern',
    'pattern_type',
    'pattern_version',
    'valid_from',
    'valid_until',
    'name',
    'description',
    'indicator_types',
    'labels',
    'confidence',
    'created_by_ref',
    'object_marking_refs',
    'external_references',
  ]);
  assert.equal(ind.pattern, "[file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e']");
  assert.equal(ind.valid_from, '2024-04-01T00:00:00Z');
  assert.equal(ind.valid_until, '2024-06-01T00:00:00Z');
  assert.equal(ind.created, NOW);
  assert.deepEqual(ind.indicator_types, ['anomalous-activity', 'compromised']);
  assert.deepEqual(ind.labels, ['scanner']);
  assert.equal(ind.confidence, 70);
  assert.deepEqual(ind.external_references, refs);
  // inputs are copied, not shared
  assert.notEqual(ind.external_references, refs);
  assert.notEqual(ind.labels, opts.labels);
});

test('valid_until is kept only when strictly after valid_from; empty arrays are omitted', () => {
  const same = indicatorFromObservable(IP, { now: NOW, validUntil: NOW });
  assert.equal('valid_until' in same, false);
  const before = indicatorFromObservable(IP, { now: NOW, validUntil: '2024-04-30T00:00:00Z' });
  assert.equal('valid_until' in before, false);
  // compared as instants, not as text: +05:30 offset is earlier than the Z time here
  const offset = indicatorFromObservable(IP, { now: NOW, validUntil: '2024-05-01T15:00:00+05:30' });
  assert.equal('valid_until' in offset, false);
  const after = indicatorFromObservable(IP, { now: NOW, validUntil: '2024-05-01T10:00:00.001Z' });
  assert.equal(after.valid_until, '2024-05-01T10:00:00.001Z');
  const garbage = indicatorFromObservable(IP, { now: NOW, validUntil: 'soon' });
  assert.equal('valid_until' in garbage, false);
  const empty = indicatorFromObservable(IP, {
    now: NOW,
    indicatorTypes: [],
    labels: [],
    markingRefs: [],
    externalReferences: [],
    description: '',
  });
  for (const k of ['indicator_types', 'labels', 'object_marking_refs', 'external_references', 'description'])
    assert.equal(k in empty, false, k);
});

test('one observable → one indicator id, whichever path computes it', () => {
  const obs: Observable[] = [
    IP,
    { type: 'ipv6-addr', value: '2001:db8::/32', cidr: true },
    { type: 'url', value: "http://a.com/it's" },
    { type: 'file', value: 'ab'.repeat(32), hash: 'SHA-256' },
    { type: 'x509-certificate', value: 'ab'.repeat(20), hash: 'SHA-1' },
  ];
  for (const o of obs) {
    const id = indicatorFromObservable(o, { now: NOW }).id;
    assert.equal(id, indicatorIdForObservable(o));
    assert.equal(id, indicatorIdForPattern(patternFor(o)));
    assert.equal(id, indicatorIdForPattern(` ${patternFor(o).replace(' = ', '=')} `));
  }
  assert.equal(
    indicatorFromObservable(IP, { now: NOW }).id,
    indicatorFromObservable(IP, { now: '2030-01-01T00:00:00Z' }).id,
  );
});
