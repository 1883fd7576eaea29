import type { SourceDefinition } from '../../../src/pipeline/types.js';
import { createRecentSource } from '../run.js';
import { mapThreatfoxIoc } from './map.js';
import { newestSeen } from '../common-map.js';
import { threatfoxSchema, type ThreatfoxConfig } from './schema.js';

const DAY_MS = 86_400_000;

/** Days `get_iocs` must cover to reach back to `since - overlap` (1-7). */
export function threatfoxDays(since: number | undefined, now: number, overlapMs: number, initial: number): number {
  if (since === undefined) return initial;
  return Math.min(7, Math.max(1, Math.ceil((now - since + overlapMs) / DAY_MS)));
}

export const threatfoxSource: SourceDefinition<ThreatfoxConfig> = {
  kind: 'source',
  transfer: 'pages',
  type: 'abusech_threatfox',
  summary: 'abuse.ch ThreatFox API: IOCs with malware family, confidence, first/last seen (Auth-Key) → indicators',
  schema: threatfoxSchema,
  secretPaths: ['auth_key'],
  create: (config) =>
    createRecentSource(config, {
      service: 'ThreatFox',
      request: (since, now) => ({
        url: config.url,
        method: 'POST',
        listKey: 'data',
        json: { query: 'get_iocs', days: threatfoxDays(since, now, config.overlap_secs * 1000, config.initial_days) },
      }),
      probe: () => ({ url: config.url, method: 'POST', listKey: 'data', json: { query: 'get_iocs', days: 1 } }),
      time: newestSeen,
      map: mapThreatfoxIoc,
    }),
};
