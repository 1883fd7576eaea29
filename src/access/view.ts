import {
  OBSERVABLE_TYPES,
  TLP_LEVELS,
  TLP_MARKING_BY_LEVEL,
  tlpOfRank,
  TLP_MARKING_IDS,
  type SourceProvenance,
  type StixObject,
  type TlpLevel,
} from '../core/stix.js';
import { applyScore, referenceTime, restoreSourceValidUntil, type ScoreExtension } from '../score/model.js';
import { contributionTlp, isIndependent, viewTlp, visibleSources, type AccessPolicy } from './policy.js';

/**
 * Properties an object keeps in a view whose content came from a contribution the reader does not
 * see: its identity and what the STIX specification requires of its type. Everything else
 * (names, descriptions, references, creator, kill chain, custom properties) is the hidden
 * source's text and is left out.
 */
const IDENTITY = ['type', 'id', 'spec_version', 'created', 'modified', 'revoked'];
const REQUIRED: Record<string, readonly string[]> = {
  indicator: ['pattern', 'pattern_type', 'pattern_version', 'valid_from', 'valid_until'],
  malware: ['name', 'is_family'],
  'threat-actor': ['name'],
  'intrusion-set': ['name'],
  campaign: ['name'],
  'attack-pattern': ['name'],
  tool: ['name'],
  vulnerability: ['name'],
  identity: ['name'],
  infrastructure: ['name'],
  location: ['region', 'country', 'latitude', 'longitude'],
  relationship: ['relationship_type', 'source_ref', 'target_ref'],
  sighting: ['sighting_of_ref'],
  'marking-definition': ['definition_type', 'definition', 'name', 'extensions'],
};
const SCO_KEEP_ALL = new Set<string>([...OBSERVABLE_TYPES, 'mac-addr', 'autonomous-system']);

/**
 * True when the reader sees an independent contribution whose delivered content is the stored
 * content (an enricher re-delivers stored content as it is, so it never vouches for it).
 */
function contentVisible(obj: StixObject, visible: readonly string[], all: number): boolean {
  const owners = obj.x_stixgate?.content_sources;
  if (!Array.isArray(owners)) return visible.length === all;
  return owners.some((s) => isIndependent(s) && visible.includes(s));
}

/**
 * The object as a reader with `ceiling` may receive it, or undefined when it sees no contribution.
 * The view holds only the visible contributions (`x_stixgate.sources`), labels and confidence taken
 * from them, a score computed from them (at the stored `scored_at`, so that a view changes only
 * when the object does), and as TLP marking the strictest visible contribution's. Non-TLP markings
 * of the content (statements, AIS/ISA markings) are kept. Never mutates `obj`.
 */
export function viewOf(obj: StixObject, ceiling: TlpLevel, policy: AccessPolicy): StixObject | undefined {
  const visible = visibleSources(obj, ceiling, policy);
  // a visible source is an independent one within the ceiling: both tests agree
  const tlp = viewTlp(obj, ceiling, policy);
  if (visible.length === 0 || tlp === undefined) return undefined;
  const prov = obj.x_stixgate?.sources ?? {};
  const all = Object.keys(prov).length;
  const ownMarkings = Array.isArray(obj.object_marking_refs) ? obj.object_marking_refs : [];
  const nonTlp = ownMarkings.filter((r) => typeof r === 'string' && !Object.hasOwn(TLP_MARKING_IDS, r));
  const partial = visible.length < all;
  let view: StixObject;
  if (!partial || contentVisible(obj, visible, all)) {
    view = { ...obj };
  } else {
    view = { type: obj.type, id: obj.id };
    const keep = SCO_KEEP_ALL.has(obj.type) ? Object.keys(obj) : [...IDENTITY, ...(REQUIRED[obj.type] ?? [])];
    for (const k of keep)
      if (
        obj[k] !== undefined &&
        k !== 'x_stixgate' &&
        k !== 'object_marking_refs' &&
        k !== 'labels' &&
        k !== 'confidence'
      )
        view[k] = obj[k];
    nonTlp.length = 0; // the hidden content's markings go with it
  }
  view.object_marking_refs = [...nonTlp, TLP_MARKING_BY_LEVEL[tlp]];
  if (!partial) return withOwnExtension(view, obj);
  const sources: Record<string, SourceProvenance> = {};
  for (const s of visible)
    Object.defineProperty(sources, s, { value: prov[s], enumerable: true, writable: true, configurable: true });
  const labels = new Set<string>();
  let confidence: number | undefined;
  for (const s of visible) {
    const p = prov[s];
    if (p === undefined) continue; // visible names sources of prov
    for (const l of p.labels ?? []) labels.add(l);
    const c = p.confidence;
    if (typeof c === 'number' && (confidence === undefined || c > confidence)) confidence = c;
  }
  if (labels.size > 0) view.labels = [...labels].sort();
  else delete view.labels;
  if (confidence !== undefined) view.confidence = confidence;
  else delete view.confidence;
  const old = obj.x_stixgate;
  const ext: ScoreExtension = { sources };
  if (old?.sightings) ext.sightings = old.sightings;
  if (old?.expired) ext.expired = true;
  view.x_stixgate = ext;
  if (obj.type === 'indicator') {
    restoreSourceValidUntil(view, obj);
    const at = typeof old?.scored_at === 'string' ? Date.parse(old.scored_at) : NaN;
    applyScore(view, policy.scoring, Number.isNaN(at) ? (referenceTime(obj) ?? 0) : at);
  }
  return view;
}

/** viewOf and the TLP its view is marked with (viewTlp), or undefined when the reader sees no contribution. */
export function viewWithTlp(
  obj: StixObject,
  ceiling: TlpLevel,
  policy: AccessPolicy,
): { view: StixObject; tlp: TlpLevel } | undefined {
  const tlp = viewTlp(obj, ceiling, policy);
  const view = tlp === undefined ? undefined : viewOf(obj, ceiling, policy);
  return view === undefined || tlp === undefined ? undefined : { view, tlp };
}

/**
 * An object reduced to its identity and required properties, with no contributions: what a
 * removal names when the reader's view became empty (the value it was shown, nothing more).
 */
export function removalStub(obj: StixObject): StixObject {
  const stub: StixObject = { type: obj.type, id: obj.id };
  for (const k of [...IDENTITY, ...(REQUIRED[obj.type] ?? [])]) if (obj[k] !== undefined) stub[k] = obj[k];
  stub.x_stixgate = { sources: {} };
  return stub;
}

function withOwnExtension(view: StixObject, obj: StixObject): StixObject {
  if (obj.x_stixgate) view.x_stixgate = { ...obj.x_stixgate };
  return view;
}

/**
 * The lowest ceiling (a TLP rank) whose view shows the object's own content (its name, for
 * summaries); TLP_LEVELS.length when no ceiling does.
 */
export function contentRank(obj: StixObject, policy: AccessPolicy): number {
  const all = Object.keys(obj.x_stixgate?.sources ?? {}).length;
  for (let r = 0; r < TLP_LEVELS.length; r++) {
    const visible = visibleSources(obj, tlpOfRank(r), policy);
    if (visible.length > 0 && (visible.length === all || contentVisible(obj, visible, all))) return r;
  }
  return TLP_LEVELS.length;
}

/** The TLP of each visible contribution, for answers that list sources with their TLP. */
export function visibleContributions(
  obj: StixObject,
  ceiling: TlpLevel,
  policy: AccessPolicy,
): { source: string; tlp: TlpLevel }[] {
  const prov = obj.x_stixgate?.sources ?? {};
  return visibleSources(obj, ceiling, policy).flatMap((source) => {
    const p = prov[source];
    return p ? [{ source, tlp: contributionTlp(p, policy) }] : []; // visibleSources names sources of prov
  });
}
