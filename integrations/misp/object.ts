/**
 * MISP objects → grouped STIX: the observables of one object merged where they describe one thing
 * (a `file` object's name and hashes are one `file` SCO), an `observed-data--<object uuid>`
 * grouping them, an `indicator--<object uuid>` whose pattern holds only the `to_ids` attributes,
 * and the object's ObjectReferences as relationships. Pure.
 */
import { first } from '../../src/core/indexed.js';
import { deterministicId, scoId } from '../../src/core/ids.js';
import { tlpRank, type StixObject, type TlpLevel } from '../../src/core/stix.js';
import { arr, bool, epochOf, isoOf, readTags, seenOf, str, uuidOf, type Json } from './context.js';
import { emit, observedData, relationship, tlpMarkings, type Ctx } from './emit.js';

/** One observable attribute of an object, as mapAttribute hands it over. */
export interface ObjectAttribute {
  uuid: string;
  toIds: boolean;
  comparisons: string[];
  scos: StixObject[];
  galaxies: Json[];
  sightings: Json[];
  /** the attribute's own TLP tag, if any */
  tlp?: TlpLevel;
  labels: string[];
}

export interface ObjectInfo {
  uuid: string;
  name: string;
  attributes: ObjectAttribute[];
  /** ids of the attributes kept without observables (x-misp-attribute, SDOs, rule indicators) */
  others: string[];
}

/** SCO types an object describes once: several attributes (name, MD5, SHA-256) are properties of one object. */
const MERGED: Record<string, readonly string[]> = {
  file: ['hashes', 'name', 'extensions', 'parent_directory_ref'],
  'x509-certificate': ['hashes', 'serial_number'],
  'email-message': ['from_ref', 'subject', 'body'],
};

function conflicts(a: StixObject, b: StixObject): boolean {
  for (const [k, v] of Object.entries(b)) {
    if (k === 'id' || k === 'type' || k === 'spec_version' || k === 'object_marking_refs') continue;
    if (k === 'hashes') {
      const ha = (a.hashes ?? {}) as Record<string, string>;
      for (const [alg, h] of Object.entries(v as Record<string, string>))
        if (ha[alg] !== undefined && ha[alg] !== h) return true;
    } else if (a[k] !== undefined && JSON.stringify(a[k]) !== JSON.stringify(v)) return true;
  }
  return false;
}

/**
 * Merges the main SCOs of the MERGED types (when their properties do not disagree) and gives the
 * merged object its spec id over the id-contributing properties; every other SCO is kept as is.
 */
export function mergeScos(attrs: ObjectAttribute[]): StixObject[] {
  const out: StixObject[] = [];
  const acc = new Map<string, StixObject>();
  for (const a of attrs) {
    for (const [i, s] of a.scos.entries()) {
      const m = acc.get(s.type);
      if (i > 0 || !MERGED[s.type]) out.push(s);
      else if (!m) acc.set(s.type, { ...s, ...(s.hashes ? { hashes: { ...(s.hashes as object) } } : {}) });
      else if (conflicts(m, s)) out.push(s);
      else
        for (const [k, v] of Object.entries(s))
          m[k] = k === 'hashes' ? { ...(m.hashes as object), ...(v as object) } : (m[k] ?? v);
    }
  }
  const merged = [...acc.values()].map((m) => {
    // only types with a MERGED entry are accumulated (above)
    const contributing = Object.fromEntries(
      (MERGED[m.type] ?? []).filter((k) => m[k] !== undefined).map((k) => [k, m[k]]),
    );
    return { ...m, id: scoId(m.type, contributing) };
  });
  const seen = new Set<string>();
  return [...merged, ...out].filter((s) => {
    if (seen.has(s.id)) return false;
    seen.add(s.id);
    return true;
  });
}

/** The pattern of an object's to_ids comparisons: one observation per SCO type, ANDed. */
export function objectPattern(comparisons: string[][]): string {
  const groups = new Map<string, string[]>();
  for (const cmps of comparisons) {
    const types = new Set(cmps.map((x) => x.slice(0, x.indexOf(':'))));
    const k = types.size === 1 ? first([...types]) : cmps.map((x) => x.slice(0, x.indexOf(':'))).join(',');
    groups.set(k, [...(groups.get(k) ?? []), ...cmps]);
  }
  return [...groups.values()].map((g) => `[${[...new Set(g)].join(' AND ')}]`).join(' AND ');
}

/** MISP relationship types are free text; STIX wants lower-case ASCII letters, digits and hyphens. */
export function relationshipType(raw: string | undefined): string {
  const t = (raw ?? '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 250);
  return t || 'related-to';
}

/** Queues the object's ObjectReferences; they are resolved once the whole event is mapped. */
export function queueReferences(c: Ctx, o: Json, objectUuid: string, when: string, markings?: string[]): void {
  for (const r of arr(o.ObjectReference)) {
    if (bool(r.deleted)) continue;
    const target = uuidOf(r.referenced_uuid);
    const type = relationshipType(str(r.relationship_type));
    if (!target) {
      c.res.rejections.push({
        reason: 'invalid_uuid',
        message: `ObjectReference ${type} has no valid referenced_uuid`,
        location: { source: c.opts.name, objectId: objectUuid },
      });
      continue;
    }
    const ruuid = uuidOf(r.uuid);
    const ts = epochOf(r.timestamp);
    c.pendingRefs.push({
      id: ruuid
        ? `relationship--${ruuid}`
        : deterministicId('relationship', `misp-reference|${objectUuid}|${type}|${target}`),
      type,
      source: objectUuid,
      target,
      when: ts !== undefined ? isoOf(ts) : when,
      markings,
    });
  }
}

/** Emits the queued references whose two ends the event mapped; the others are rejected with the reason. */
export function resolveReferences(c: Ctx): void {
  for (const p of c.pendingRefs) {
    const src = c.stixIdOf.get(p.source);
    const dst = c.stixIdOf.get(p.target);
    if (src && dst) {
      emit(c, relationship(p.type, src, dst, p.when, p.markings, p.id));
      c.res.references++;
    } else {
      const missing = src ? p.target : p.source;
      c.res.rejections.push({
        reason: 'unresolved_reference',
        message: `ObjectReference ${p.type} names ${missing}, which this event does not map`,
        location: { source: c.opts.name, objectId: p.id },
      });
    }
  }
}

/** Sightings and galaxies of the object's attributes, handed to the caller's builders. */
export interface ObjectHooks {
  linkSdos(from: string, to: string[], when: string, markings: string[] | undefined, type: string): void;
  galaxyIds(galaxies: Json[], when: string, markings?: string[]): string[];
  sightings(ofId: string, list: Json[], markings?: string[]): void;
  indicator(id: string, pattern: string, when: string, p: IndicatorFields): StixObject;
}

/** What an indicator built from an attribute or an object carries besides its id, pattern and time. */
export interface IndicatorFields {
  name: string;
  description?: string;
  category?: string;
  type: string;
  labels: string[];
  validFrom: string;
  validUntil?: string;
  markings?: string[];
}

/** Emits the grouped objects of one MISP object (its attributes were mapped into `info`). */
export function emitObject(c: Ctx, o: Json, info: ObjectInfo, eventWhen: string, hooks: ObjectHooks): void {
  const ts = epochOf(o.timestamp);
  const when = ts !== undefined ? isoOf(ts) : eventWhen;
  const tags = readTags(arr(o.Tag));
  // the object's TLP (else the event's), raised to the most restrictive TLP of its attributes: merged
  // observables and the object's pattern carry what each attribute carries
  let tlp = tags.tlp ?? c.eventTlp;
  for (const a of info.attributes) if (a.tlp && (tlp === undefined || tlpRank(a.tlp) > tlpRank(tlp))) tlp = a.tlp;
  const markings = tlpMarkings(c, tlp);
  tags.labels = [...new Set([...tags.labels, ...info.attributes.flatMap((a) => a.labels)])];
  const first = seenOf(o.first_seen);
  const last = seenOf(o.last_seen);
  const scos = mergeScos(info.attributes).map((s) => (markings ? { ...s, object_marking_refs: markings } : s));
  for (const s of scos) emit(c, s);
  let main: string | undefined;
  let od: StixObject | undefined;
  if (scos.length > 0) {
    od = observedData(
      c,
      info.uuid,
      scos.map((s) => s.id),
      when,
      first,
      last,
      markings,
      tags.labels,
    );
    emit(c, od, { seenAt: String(od.last_observed) });
    main = od.id;
  } else if (info.others.length > 0) {
    // an object without observables (an annotation, a report object): kept as one custom object
    const x: StixObject = {
      type: 'x-misp-object',
      spec_version: '2.1',
      id: `x-misp-object--${info.uuid}`,
      created: when,
      modified: when,
      x_misp_name: info.name.slice(0, 128),
      x_misp_attribute_refs: info.others,
    };
    const metaCategory = str(o['meta-category']);
    if (metaCategory) x.x_misp_meta_category = metaCategory.slice(0, 128);
    const comment = str(o.comment);
    if (comment) x.x_misp_comment = comment.slice(0, 100_000);
    if (c.identityRef) x.created_by_ref = c.identityRef;
    if (markings) x.object_marking_refs = markings;
    emit(c, x);
    main = x.id;
  }
  const toIds = info.attributes.filter((a) => a.toIds && a.comparisons.length > 0);
  let ind: StixObject | undefined;
  if (toIds.length > 0) {
    ind = hooks.indicator(`indicator--${info.uuid}`, objectPattern(toIds.map((a) => a.comparisons)), when, {
      name: `MISP object ${info.name}`.slice(0, 256),
      description: str(o.comment),
      category: str(o['meta-category']),
      type: `object:${info.name}`,
      labels: [...(c.opts.labels ?? []), ...c.eventLabels, ...tags.labels],
      validFrom: first ?? when,
      validUntil: seenOf(o.last_seen),
      markings,
    });
    emit(c, ind, { confidence: c.opts.confidence, seenAt: last ?? when });
    if (od) emit(c, relationship('based-on', ind.id, od.id, when, markings));
    hooks.linkSdos(ind.id, c.eventSdoIds, when, markings, 'indicates');
  }
  queueReferences(c, o, info.uuid, when, markings);
  if (!main) main = ind?.id;
  if (!main) return;
  c.stixIdOf.set(info.uuid, main);
  for (const a of info.attributes) c.stixIdOf.set(a.uuid, main);
  const galaxies = info.attributes.flatMap((a) => a.galaxies);
  if (galaxies.length) {
    const ids = hooks.galaxyIds(galaxies, when, markings);
    hooks.linkSdos(ind?.id ?? main, ids, when, markings, ind ? 'indicates' : 'related-to');
  }
  hooks.sightings(
    ind?.id ?? main,
    info.attributes.flatMap((a) => a.sightings),
    markings,
  );
}
