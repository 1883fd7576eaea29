/**
 * Compares our MISP mapping with misp-stix's, attribute by attribute (shared by the misp-stix
 * integration test). Keys are built from observable content, because misp-stix names SCOs after
 * the attribute uuid while stixgate uses spec (UUIDv5) ids.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { normaliseObservable } from '../../src/core/observable.js';
import { canonicalPattern, extractObservables } from '../../src/core/pattern.js';
import { parseTlp, TLP_MARKING_IDS, type ObservableType, type StixObject } from '../../src/core/stix.js';
import type { AttributeTrace } from './map.js';
import { expandHive } from './attribute.js';

const INDEXED = new Set<string>(['ipv4-addr', 'ipv6-addr', 'domain-name', 'url', 'email-addr']);

function norm(type: string, v: string): string {
  if (!INDEXED.has(type)) return v;
  const r = normaliseObservable(type as ObservableType, v);
  return r.ok ? r.observable.value : v;
}

/** The content key of an SCO (refs resolved through `byId`), normalised or verbatim. */
export function scoKey(o: StixObject, byId: Map<string, StixObject>, normalised: boolean): string {
  const f = (t: string, v: unknown) => (normalised && typeof v === 'string' ? norm(t, v) : String(v));
  switch (o.type) {
    case 'network-traffic': {
      const ref = (k: string) => {
        const r = byId.get(String(o[k] ?? ''));
        return r ? `${r.type}=${f(r.type, r.value)}` : '';
      };
      return `network-traffic:${ref('src_ref')}:${o.src_port ?? ''}>${ref('dst_ref')}:${o.dst_port ?? ''}`;
    }
    case 'email-message': {
      const from = byId.get(String(o.from_ref ?? ''));
      const to = ((o.to_refs as string[] | undefined) ?? []).map((r) => byId.get(r)?.value).join(',');
      return `email-message:${from ? f('email-addr', from.value) : ''}>${normalised ? to.toLowerCase() : to}`;
    }
    case 'file': {
      const h = (o.hashes ?? {}) as Record<string, string>;
      return `file:${o.name ?? ''}:${Object.keys(h)
        .sort()
        .map((k) => `${k}=${normalised ? h[k]?.toLowerCase() : h[k]}`)
        .join(',')}`;
    }
    case 'x509-certificate': {
      const h = (o.hashes ?? {}) as Record<string, string>;
      return `x509:${Object.keys(h)
        .sort()
        .map((k) => `${k}=${h[k]?.toLowerCase()}`)
        .join(',')}`;
    }
    case 'autonomous-system':
      return `as:${o.number}`;
    case 'mutex':
      return `mutex:${o.name}`;
    case 'windows-registry-key':
      return `regkey:${normalised ? expandHive(String(o.key)) : o.key}:${JSON.stringify(((o.values as { data?: string }[]) ?? []).map((v) => v.data))}`;
    case 'domain-name':
      return `domain-name:${f('domain-name', o.value)}`;
    default:
      return `${o.type}:${o.value !== undefined ? f(o.type, o.value) : (o.name ?? '')}`;
  }
}

/** Keys of a list of SCOs; objects reached through src_ref/dst_ref/from_ref/to_refs are folded into their parent's key. */
export function keySet(scos: StixObject[], byId: Map<string, StixObject>, normalised: boolean): string[] {
  const folded = new Set<string>();
  for (const o of scos) {
    for (const k of ['src_ref', 'dst_ref', 'from_ref']) if (typeof o[k] === 'string') folded.add(o[k] as string);
    for (const r of (o.to_refs as string[] | undefined) ?? []) folded.add(r);
  }
  return [...new Set(scos.filter((o) => !folded.has(o.id)).map((o) => scoKey(o, byId, normalised)))].sort();
}

export function patternObservables(p: string): string[] {
  try {
    return extractObservables(p)
      .map((o) => `${o.type}|${o.hash ?? ''}|${o.value}`)
      .sort();
  } catch {
    return ['<unparsable>'];
  }
}

export function samePattern(a: string, b: string): boolean {
  try {
    return canonicalPattern(a) === canonicalPattern(b);
  } catch {
    return false;
  }
}

export interface TypeRow {
  type: string;
  attributes: number;
  /** to_ids attributes where both made an indicator */
  indicators: number;
  indicatorsOursOnly: number;
  indicatorsTheirsOnly: number;
  patternSameObservables: number;
  patternExact: number;
  /** non-to_ids attributes (observable objects) */
  observed: number;
  observedSameNormalised: number;
  observedSameVerbatim: number;
  /** both kept the attribute without an observable (x-misp-attribute) */
  contextBoth: number;
}

export interface ObjectRow {
  name: string;
  objects: number;
  indicators: number;
  oursOnly: number;
  theirsOnly: number;
  patternSameObservables: number;
  /** our pattern's observables all appear in misp-stix's (ours holds only the to_ids attributes) */
  patternSubset: number;
}

/** MISP objects: our `indicator--<object uuid>` against misp-stix's, by the observables of the patterns. */
export function compareObject(
  rows: Map<string, ObjectRow>,
  uuid: string,
  name: string,
  ours: Map<string, StixObject>,
  theirs: Map<string, StixObject>,
): void {
  let row = rows.get(name);
  if (!row) {
    row = { name, objects: 0, indicators: 0, oursOnly: 0, theirsOnly: 0, patternSameObservables: 0, patternSubset: 0 };
    rows.set(name, row);
  }
  row.objects++;
  const a = ours.get(`indicator--${uuid}`);
  const b = theirs.get(`indicator--${uuid}`);
  if (a && b) {
    row.indicators++;
    const mine = patternObservables(String(a.pattern));
    const theirObs = new Set(patternObservables(String(b.pattern)));
    if (JSON.stringify(mine) === JSON.stringify([...theirObs].sort())) row.patternSameObservables++;
    if (mine.every((x) => theirObs.has(x))) row.patternSubset++;
  } else if (a) row.oursOnly++;
  else if (b) row.theirsOnly++;
}

export function compareAttribute(rows: Map<string, TypeRow>, t: AttributeTrace, theirs: Map<string, StixObject>): void {
  if (t.object) return;
  let row = rows.get(t.type);
  if (!row) {
    row = {
      type: t.type,
      attributes: 0,
      indicators: 0,
      indicatorsOursOnly: 0,
      indicatorsTheirsOnly: 0,
      patternSameObservables: 0,
      patternExact: 0,
      observed: 0,
      observedSameNormalised: 0,
      observedSameVerbatim: 0,
      contextBoth: 0,
    };
    rows.set(t.type, row);
  }
  row.attributes++;
  const ind = theirs.get(`indicator--${t.uuid}`);
  const od = theirs.get(`observed-data--${t.uuid}`);
  const custom = theirs.get(`x-misp-attribute--${t.uuid}`);
  if (t.outcome === 'context' || t.outcome === 'unknown') {
    if (custom) row.contextBoth++;
    else if (ind) row.indicatorsTheirsOnly++;
    return;
  }
  if (t.toIds) {
    if (t.pattern && ind) {
      row.indicators++;
      if (JSON.stringify(patternObservables(t.pattern)) === JSON.stringify(patternObservables(String(ind.pattern))))
        row.patternSameObservables++;
      if (samePattern(t.pattern, String(ind.pattern))) row.patternExact++;
    } else if (t.pattern) row.indicatorsOursOnly++;
    else if (ind) row.indicatorsTheirsOnly++;
    return;
  }
  row.observed++;
  if (!od || !t.scos) return;
  const theirScos = ((od.object_refs as string[]) ?? []).map((r) => theirs.get(r)).filter((x): x is StixObject => !!x);
  const ourById = new Map(t.scos.map((o) => [o.id, o]));
  if (JSON.stringify(keySet(t.scos, ourById, true)) === JSON.stringify(keySet(theirScos, theirs, true)))
    row.observedSameNormalised++;
  if (JSON.stringify(keySet(t.scos, ourById, false)) === JSON.stringify(keySet(theirScos, theirs, false)))
    row.observedSameVerbatim++;
}

/** The MISP inputs of the shared corpus the oracle comparison and the validator test use. */
export function mispCorpusFiles(corpusDir: string): string[] {
  const files: string[] = [];
  const add = (dir: string, filter: (f: string) => boolean) => {
    const p = join(corpusDir, dir);
    if (existsSync(p)) for (const f of readdirSync(p).sort()) if (filter(f)) files.push(join(p, f));
  };
  add('misp-stix/tests', (f) => /^test_(attributes|events|objects)_collection_\d\.json$/.test(f));
  add('pymisp', (f) => f.endsWith('.json'));
  add('pymisp/mispevent_testfiles', (f) => f.endsWith('.json'));
  add('pymisp/reportlab_testfiles', (f) => f.endsWith('.json'));
  add('chrome-mal-ids-misp-feed/misp-feed', (f) => /^[0-9a-f-]{36}\.json$/.test(f));
  return files;
}

/** The UUID part of a STIX id: MISP uuids name the same thing in both mappings whatever the STIX type. */
function uuidPart(id: unknown): string {
  const s = String(id ?? '');
  return s.slice(s.indexOf('--') + 2);
}

const SDO_TARGETS = new Set([
  'attack-pattern',
  'malware',
  'tool',
  'threat-actor',
  'intrusion-set',
  'campaign',
  'vulnerability',
  'course-of-action',
  'identity',
  'location',
]);

/** Relationship kinds: an object's ObjectReference, a link to a galaxy SDO, or an indicator based on its own observation. */
export function relationshipKind(r: StixObject): 'reference' | 'galaxy' | 'based-on' {
  if (uuidPart(r.source_ref) === uuidPart(r.target_ref)) return 'based-on';
  const t = String(r.target_ref ?? '');
  return SDO_TARGETS.has(t.slice(0, t.indexOf('--'))) ? 'galaxy' : 'reference';
}

function relationshipKey(r: StixObject): string {
  return `${r.relationship_type}|${uuidPart(r.source_ref)}|${uuidPart(r.target_ref)}`;
}

export interface EventAgreement {
  /** misp-stix relationships by kind, and how many we made too (same type, same MISP uuids at both ends) */
  relationships: Record<'reference' | 'galaxy' | 'based-on', { theirs: number; matched: number; ours: number }>;
  /** objects both made for the same MISP uuid (indicator, observed-data, report/grouping) and how many carry the same TLP */
  markings: { compared: number; same: number; theirsMarked: number; oursMarked: number; sameWhereTheirsMarked: number };
  /** TLP levels of the marking-definitions each bundle carries, summed over inputs, and inputs where the two sets agree */
  markingDefinitions: { inputs: number; same: number; theirs: number; ours: number };
  /** MISP attributes and objects with sightings in misp-stix, and how many of them we sighted */
  sightings: { theirs: number; matched: number };
}

export function emptyAgreement(): EventAgreement {
  const k = () => ({ theirs: 0, matched: 0, ours: 0 });
  return {
    relationships: { reference: k(), galaxy: k(), 'based-on': k() },
    markings: { compared: 0, same: 0, theirsMarked: 0, oursMarked: 0, sameWhereTheirsMarked: 0 },
    markingDefinitions: { inputs: 0, same: 0, theirs: 0, ours: 0 },
    sightings: { theirs: 0, matched: 0 },
  };
}

function tlpOf(o: StixObject, byId: Map<string, StixObject>): string {
  const levels = ((o.object_marking_refs as string[] | undefined) ?? []).map((ref) => {
    const known = TLP_MARKING_IDS[ref];
    if (known) return known;
    const def = byId.get(ref);
    const t = def && typeof def.name === 'string' ? parseTlp(def.name) : undefined;
    return t ?? ref;
  });
  return [...new Set(levels)].sort().join(',');
}

/** Relationships, TLP markings and sightings of one input, ours against misp-stix's. */
export function compareEvent(
  acc: EventAgreement,
  ours: Map<string, StixObject>,
  theirs: Map<string, StixObject>,
): void {
  const ourRels = [...ours.values()].filter((o) => o.type === 'relationship');
  const ourKeys = new Set(ourRels.map(relationshipKey));
  for (const r of ourRels) acc.relationships[relationshipKind(r)].ours++;
  for (const r of theirs.values()) {
    if (r.type !== 'relationship') continue;
    const row = acc.relationships[relationshipKind(r)];
    row.theirs++;
    if (ourKeys.has(relationshipKey(r))) row.matched++;
  }
  const ourByUuid = new Map<string, StixObject[]>();
  for (const o of ours.values()) ourByUuid.set(uuidPart(o.id), [...(ourByUuid.get(uuidPart(o.id)) ?? []), o]);
  const sameType = (t: string) => (t === 'grouping' ? 'report' : t);
  for (const o of theirs.values()) {
    if (!['indicator', 'observed-data', 'report', 'grouping'].includes(o.type)) continue;
    const mine = (ourByUuid.get(uuidPart(o.id)) ?? []).find((x) => x.type === sameType(o.type));
    if (!mine) continue;
    acc.markings.compared++;
    const a = tlpOf(mine, ours);
    const b = tlpOf(o, theirs);
    if (a) acc.markings.oursMarked++;
    if (b) acc.markings.theirsMarked++;
    if (a === b) acc.markings.same++;
    if (b && a === b) acc.markings.sameWhereTheirsMarked++;
  }
  const defLevels = (m: Map<string, StixObject>) =>
    new Set(
      [...m.values()]
        .filter((o) => o.type === 'marking-definition')
        .map((o) => tlpOf({ ...o, object_marking_refs: [o.id] }, m))
        .filter((x) => x !== ''),
    );
  const ourDefs = defLevels(ours);
  const theirDefs = defLevels(theirs);
  acc.markingDefinitions.inputs++;
  acc.markingDefinitions.ours += ourDefs.size;
  acc.markingDefinitions.theirs += theirDefs.size;
  if ([...theirDefs].every((l) => ourDefs.has(l))) acc.markingDefinitions.same++;
  const ourSighted = new Set(
    [...ours.values()].filter((o) => o.type === 'sighting').map((o) => uuidPart(o.sighting_of_ref)),
  );
  const theirSighted = new Set(
    [...theirs.values()].filter((o) => o.type === 'sighting').map((o) => uuidPart(o.sighting_of_ref)),
  );
  acc.sightings.theirs += theirSighted.size;
  for (const u of theirSighted) if (ourSighted.has(u)) acc.sightings.matched++;
}
