/** The MISP golden fixtures (test/fixtures/misp/golden) and how the golden test maps them. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from './corpus.js';
import type { StixObject } from '../../src/core/stix.js';
import { MAPPINGS_DIR } from '../../src/paths.js';
import { eventsOf, mapEvent } from '../../integrations/misp/map.js';
import { loadMispTable } from '../../integrations/misp/table.js';

export const GOLDEN_DIR = join(PROJECT_ROOT, 'test/fixtures/misp/golden');
export const GOLDEN_NOW = '2026-03-01T12:00:00.000Z';
const table = loadMispTable(MAPPINGS_DIR);

export function goldenEvents(): string[] {
  return readdirSync(GOLDEN_DIR)
    .filter((f) => f.endsWith('.event.json'))
    .sort()
    .map((f) => join(GOLDEN_DIR, f));
}

export function mapGolden(file: string): { objects: StixObject[]; rejections: string[] } {
  const objects: StixObject[] = [];
  const rejections: string[] = [];
  for (const ev of eventsOf(JSON.parse(readFileSync(file, 'utf8')))) {
    const r = mapEvent(ev, { now: GOLDEN_NOW, table, name: 'golden' });
    objects.push(...r.items.map((i) => i.object));
    rejections.push(...r.rejections.map((x) => `${x.reason}: ${x.message}`));
  }
  return { objects, rejections };
}
