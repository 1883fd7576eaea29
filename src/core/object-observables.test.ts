import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { extractObservables, patternFor } from './pattern.js';
import { detectObservable } from './observable.js';
import {
  hasStixPattern,
  indicatorObservables,
  objectObservables,
  simplePatternObservables,
} from './object-observables.js';
import type { StixObject } from './stix.js';

const viaParser = (pattern: string) => {
  try {
    return extractObservables(pattern);
  } catch {
    return [];
  }
};

describe('observables of an object', () => {
  it('the simple-pattern path gives exactly what the parser gives', () => {
    const raws = [
      '1.2.3.4',
      '10.0.0.0/8',
      '2001:DB8::1',
      'Example.COM',
      'xn--bcher-kva.example',
      'hxxp://evil[.]com/a?b=c&d=e',
      'http://EVIL.example.com:80/a/../b/./c.php?x=1#frag',
      'user@Example.org',
      'd41d8cd98f00b204e9800998ecf8427e',
      'DA39A3EE5E6B4B0D3255BFEF95601890AFD80709',
      'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    ];
    let simple = 0;
    for (const raw of raws) {
      const r = detectObservable(raw);
      assert.ok(r.ok, raw);
      const pattern = patternFor(r.observable);
      const fast = simplePatternObservables(pattern);
      if (fast) simple++;
      assert.deepEqual(fast ?? viaParser(pattern), viaParser(pattern), pattern);
    }
    assert.equal(simple, raws.length, 'every mapper-written pattern takes the simple path');
    // shapes the simple path must leave to the parser, or decide the same way
    const odd = [
      "[ipv4-addr:value = '999.1.1.1']",
      "[domain-name:value = 'not a domain']",
      "[url:value = 'a b']",
      "[email-addr:value = 'nope']",
      "[file:hashes.'SHA-256' = 'abc']",
      "[file:hashes.MD5 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855']",
      "[ipv4-addr:value = '1.2.3.4' OR ipv4-addr:value = '5.6.7.8']",
      "[ipv4-addr:value = '1.2.3.4'] AND [domain-name:value = 'a.com']",
      "[ipv4-addr:value != '1.2.3.4']",
      "[ipv4-addr:value='1.2.3.4']",
      "[url:value = 'http://a.com/it\\'s']",
      "[domain-name:value = 'bücher.de']",
      "[x509-certificate:hashes.'SHA-1' = 'DA:39:A3:EE:5E:6B:4B:0D:32:55:BF:EF:95:60:18:90:AF:D8:07:09']",
      "[ipv4-addr:value = '']",
    ];
    for (const pattern of odd) {
      const fast = simplePatternObservables(pattern);
      assert.deepEqual(fast ?? viaParser(pattern), viaParser(pattern), pattern);
    }
    assert.equal(simplePatternObservables("[ipv4-addr:value = '1.2.3.4' OR ipv4-addr:value = '5.6.7.8']"), undefined);
    assert.deepEqual(simplePatternObservables("[ipv4-addr:value = '999.1.1.1']"), []);
  });

  const indicator = (extra: Record<string, unknown>): StixObject =>
    ({
      type: 'indicator',
      id: 'indicator--1',
      pattern: "[domain-name:value = 'Evil.Example.com']",
      ...extra,
    }) as unknown as StixObject;

  it('an indicator stands for its STIX pattern: pattern_type stix, or none at all (STIX 2.0)', () => {
    const evil = [{ type: 'domain-name', value: 'evil.example.com' }];
    assert.deepEqual(indicatorObservables(indicator({ pattern_type: 'stix' })), evil);
    assert.deepEqual(indicatorObservables(indicator({})), evil);
    assert.equal(hasStixPattern(indicator({})), true);
    for (const other of ['sigma', 'yara', 'snort', 'pcre', 'STIX']) {
      assert.deepEqual(indicatorObservables(indicator({ pattern_type: other })), [], other);
      assert.deepEqual(objectObservables(indicator({ pattern_type: other })), [], other);
    }
    assert.deepEqual(indicatorObservables(indicator({ pattern: '[domain-name:value = ' })), [], 'unparseable');
    assert.deepEqual(indicatorObservables(indicator({ pattern: 42 })), [], 'not a string');
  });

  it('SCOs stand for their value or hashes in the stores, never for sinks, enrichers or lookups', () => {
    const ip = { type: 'ipv4-addr', id: 'ipv4-addr--1', value: '198.51.100.7' } as unknown as StixObject;
    const file = {
      type: 'file',
      id: 'file--1',
      hashes: {
        MD5: 'D41D8CD98F00B204E9800998ECF8427E',
        'SHA-256': 'E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855',
      },
    } as unknown as StixObject;
    assert.deepEqual(objectObservables(ip), [{ type: 'ipv4-addr', value: '198.51.100.7' }]);
    assert.deepEqual(
      objectObservables(file).map((o) => o.value),
      ['d41d8cd98f00b204e9800998ecf8427e', 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'],
    );
    assert.deepEqual(indicatorObservables(ip), []);
    assert.deepEqual(indicatorObservables(file), []);
    assert.deepEqual(objectObservables({ type: 'malware', id: 'malware--1', name: 'x' } as unknown as StixObject), []);
    assert.deepEqual(objectObservables(indicator({})), indicatorObservables(indicator({})));
  });
});
