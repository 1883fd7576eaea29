/**
 * What scoring and sightings write is valid STIX 2.1 (OASIS stix2-validator): an indicator with a
 * derived valid_until, a sighting SRO and its reporter identity. Runs when STIXGATE_PYTHON is set
 * (scripts/integration.sh prepares it).
 */
import { it } from 'node:test';
import { indicatorFromObservable } from '../../src/core/indicator.js';
import { detectObservable } from '../../src/core/observable.js';
import { mergeObject } from '../../src/store/merge.js';
import { identityFor, sightingFor } from '../../src/store/sightings.js';
import { VALIDATOR_SKIP, assertValidStix } from '../helpers/validator.js';
import { HOUR, STANDARD, T0, iso } from './helpers.js';

it('derived valid_until, sighting and identity pass stix2-validator', { skip: VALIDATOR_SKIP }, () => {
  const r = detectObservable('198.51.100.7');
  if (!r.ok) throw new Error('fixture');
  const ind = indicatorFromObservable(r.observable, { now: iso(T0) });
  const low = mergeObject(
    undefined,
    { object: ind, source: 'feed', confidence: 10 },
    { now: T0, seenGranularityMs: HOUR, scoring: STANDARD() },
  ).object;
  const high = mergeObject(
    undefined,
    { object: ind, source: 'feed', confidence: 90 },
    { now: T0, seenGranularityMs: HOUR, scoring: STANDARD() },
  ).object;
  const report = { indicatorId: ind.id, count: 3, firstSeen: T0, lastSeen: T0 + HOUR, where: 'splunk-prod' };
  assertValidStix([
    ['below the threshold at creation (valid_until just after valid_from)', [low]],
    ['derived valid_until', [high]],
    ['sighting and identity', [identityFor('splunk-prod', T0 + HOUR), sightingFor(report, T0 + HOUR), high]],
    [
      'sighting with observed-data refs',
      [
        sightingFor(
          { ...report, observedDataRefs: ['observed-data--11111111-1111-4111-8111-111111111111'] },
          T0 + HOUR,
        ),
      ],
    ],
  ]);
});
