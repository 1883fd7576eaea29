import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TLP_MARKING_BY_LEVEL, type StixObject, type TlpLevel } from '../../src/core/stix.js';
import { EmbeddedStore } from '../../src/store/embedded/store.js';
import { Correlator, type CorrelatorOptions } from '../../src/correlate/index.js';

export const NOW = Date.parse('2026-03-01T12:00:00.000Z');
const TS = '2026-01-01T00:00:00.000Z';

export function sid(type: string, n: number): string {
  return `${type}--00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
}

const marking = (tlp: TlpLevel) => ({ object_marking_refs: [TLP_MARKING_BY_LEVEL[tlp]] });

export function ind(n: number, pattern: string, tlp: TlpLevel = 'green', extra: Partial<StixObject> = {}): StixObject {
  return {
    type: 'indicator',
    spec_version: '2.1',
    id: sid('indicator', n),
    created: TS,
    modified: TS,
    pattern,
    pattern_type: 'stix',
    valid_from: TS,
    ...marking(tlp),
    ...extra,
  };
}

export function sdo(
  type: string,
  n: number,
  name: string,
  tlp: TlpLevel = 'green',
  extra: Partial<StixObject> = {},
): StixObject {
  return { type, spec_version: '2.1', id: sid(type, n), created: TS, modified: TS, name, ...marking(tlp), ...extra };
}

export function rel(n: number, src: string, type: string, tgt: string, extra: Partial<StixObject> = {}): StixObject {
  return {
    type: 'relationship',
    spec_version: '2.1',
    id: sid('relationship', n),
    created: TS,
    modified: TS,
    relationship_type: type,
    source_ref: src,
    target_ref: tgt,
    ...marking('green'),
    ...extra,
  };
}

export function report(n: number, refs: string[], extra: Partial<StixObject> = {}): StixObject {
  return {
    type: 'report',
    spec_version: '2.1',
    id: sid('report', n),
    created: TS,
    modified: TS,
    name: `report ${n}`,
    published: TS,
    report_types: ['threat-report'],
    object_refs: refs,
    ...marking('green'),
    ...extra,
  };
}

export function sco(type: string, n: number, value: string, extra: Partial<StixObject> = {}): StixObject {
  return { type, spec_version: '2.1', id: sid(type, n), value, ...marking('green'), ...extra };
}

/** A newer version of an object (for updates and revocations). */
export function bump(obj: StixObject, changes: Partial<StixObject>, modified = '2026-02-01T00:00:00.000Z'): StixObject {
  return { ...obj, modified, ...changes };
}

export interface Rig {
  store: EmbeddedStore;
  correlator: Correlator;
  dir: string;
  put(objects: StixObject[], source?: string): Promise<void>;
  /** Related ids (sorted) of `id`. */
  ids(id: string, o?: Parameters<Correlator['related']>[2]): Promise<string[]>;
}

export async function rig(
  t: { after: (fn: () => unknown) => void },
  opts: Partial<CorrelatorOptions> = {},
): Promise<Rig> {
  const dir = mkdtempSync(join(tmpdir(), 'stixgate-correlate-'));
  const store = new EmbeddedStore({ dataDir: join(dir, 'store') });
  await store.open();
  const correlator = new Correlator({ dataDir: dir, ...opts });
  t.after(async () => {
    await correlator.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const r: Rig = {
    store,
    correlator,
    dir,
    async put(objects, source = 'feed_a') {
      const res = await store.upsert(
        objects.map((object) => ({ object, source })),
        { now: NOW },
      );
      if (res.rejected.length) throw new Error(`rejected: ${JSON.stringify(res.rejected)}`);
      await correlator.catchUp(store);
    },
    async ids(id, o = {}) {
      const res = await correlator.related(store, id, { now: NOW, ...o });
      return (res?.related ?? []).map((x) => x.object.id).sort();
    },
  };
  return r;
}
