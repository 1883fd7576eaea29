/**
 * A MISP event (REST API, feed file or `stixgate convert`) → STIX 2.1 objects. Pure: the run time
 * comes from `opts.now`; ids come from the MISP uuids (`indicator--<attribute uuid>`,
 * `report--<event uuid>`) or are deterministic (SCOs, relationships).
 */
import { param } from './table.js';
import type { Location } from '../../src/core/errors.js';
import { deterministicId } from '../../src/core/ids.js';
import type { Indicator, StixObject } from '../../src/core/stix.js';
import { mapAttributeValue } from './attribute.js';
import { arr, bool, epochOf, isoOf, obj, readTags, seenOf, str, uuidOf, type Json } from './context.js';
import { contextObject, emit, MAX_VALUE, observedData, relationship, tlpMarkings, type Ctx } from './emit.js';
import { mapGalaxies } from './galaxy.js';
import { emitObject, resolveReferences, type IndicatorFields, type ObjectHooks, type ObjectInfo } from './object.js';
import type { AttributeTrace, EventResult, MispMapOptions } from './types.js';

export type { AttributeTrace, EventResult, MispMapOptions } from './types.js';

/** Keeps an attribute without observable (custom object, SDO, rule indicator) under its uuid for references. */
function kept(c: Ctx, uuid: string, id: string, objectInfo: ObjectInfo | undefined): void {
  c.stixIdOf.set(uuid, id);
  objectInfo?.others.push(id);
}

/**
 * Maps one attribute. Top-level: `to_ids` → an indicator, otherwise an observed-data over its
 * SCOs. In an object (`objectInfo`): its SCOs and comparisons are handed to the object, which
 * groups them (object.ts).
 */
function mapAttribute(c: Ctx, a: Json, objectInfo?: ObjectInfo): void {
  const { opts, res } = c;
  res.attributes++;
  const type = str(a.type) ?? '';
  const uuid = uuidOf(a.uuid);
  const ts = epochOf(a.timestamp);
  if (ts !== undefined && ts > res.maxTimestamp) res.maxTimestamp = ts;
  const location: Location = { source: opts.name, objectId: uuid ?? str(a.uuid)?.slice(0, 64) };
  if (bool(a.deleted)) return;
  if (opts.sinceAttribute !== undefined && ts !== undefined && ts < opts.sinceAttribute) return;
  const toIds = bool(a.to_ids);
  const trace: AttributeTrace | undefined = c.trace
    ? { uuid: uuid ?? '', type, toIds, observables: [], outcome: 'mapped' }
    : undefined;
  if (trace && objectInfo) trace.object = { uuid: objectInfo.uuid, name: objectInfo.name };
  if (trace) res.trace.push(trace);
  if (!uuid) {
    res.rejections.push({
      reason: 'invalid_uuid',
      message: `attribute of type ${JSON.stringify(type.slice(0, 64))} has no valid uuid`,
      location,
    });
    if (trace) trace.outcome = 'invalid_uuid';
    return;
  }
  const value = str(a.value);
  if (value === undefined || value.length > MAX_VALUE) {
    res.rejections.push({
      reason: value === undefined ? 'empty' : 'too_long',
      message: 'attribute value missing or longer than 1 MiB',
      location,
    });
    if (trace) trace.outcome = 'empty';
    return;
  }
  const when = ts !== undefined ? isoOf(ts) : c.eventWhen;
  const tags = readTags(arr(a.Tag));
  const tlp = tags.tlp ?? c.eventTlp;
  const markings = tlpMarkings(c, tlp);
  const rule = c.opts.table.attributes.get(type);
  if (!rule) {
    res.unknownTypes.set(type, (res.unknownTypes.get(type) ?? 0) + 1);
    if (trace) trace.outcome = 'unknown';
    emit(c, contextObject(c, a, uuid, type, when, markings, tags.labels));
    kept(c, uuid, `x-misp-attribute--${uuid}`, objectInfo);
    return;
  }
  if (rule.handler === 'rule' || rule.handler === 'sdo') {
    const made =
      rule.handler === 'rule'
        ? ruleIndicator(c, a, uuid, param(rule, 'pattern_type'), value, when, tags.labels, markings, toIds)
        : domainObject(c, a, uuid, param(rule, 'sdo'), value, when, markings);
    if (trace) trace.outcome = made ? 'mapped' : 'context';
    if (!made) emit(c, contextObject(c, a, uuid, type, when, markings, tags.labels));
    kept(c, uuid, made ?? `x-misp-attribute--${uuid}`, objectInfo);
    return;
  }
  const r = mapAttributeValue(rule, value);
  if (r.ok === 'context') {
    if (trace) trace.outcome = 'context';
    emit(c, contextObject(c, a, uuid, type, when, markings, tags.labels));
    kept(c, uuid, `x-misp-attribute--${uuid}`, objectInfo);
    return;
  }
  if (r.ok === false) {
    res.rejections.push({ reason: r.reason, message: `${type}: ${r.message}`, location });
    if (trace) trace.outcome = r.reason;
    return;
  }
  if (trace) {
    trace.observables = r.observables;
    trace.scos = r.scos;
  }
  if (objectInfo) {
    objectInfo.attributes.push({
      uuid,
      toIds,
      comparisons: r.comparisons,
      scos: r.scos,
      galaxies: arr(a.Galaxy),
      sightings: arr(a.Sighting),
      tlp: tags.tlp,
      labels: tags.labels,
    });
    return;
  }
  // to_ids: an indicator (its pattern carries the observable); otherwise an observation of its SCOs
  if (!toIds) {
    for (const s of r.scos) emit(c, markings ? { ...s, object_marking_refs: markings } : s);
    const od = observedData(
      c,
      uuid,
      r.scos.map((s) => s.id),
      when,
      seenOf(a.first_seen),
      seenOf(a.last_seen),
      markings,
      tags.labels,
    );
    emit(c, od, { seenAt: String(od.last_observed) });
    c.stixIdOf.set(uuid, od.id);
    linkSdos(c, od.id, galaxyIds(c, arr(a.Galaxy), when, markings), when, markings, 'related-to');
    sightings(c, od.id, arr(a.Sighting), markings);
    return;
  }
  const pattern = `[${r.comparisons.join(' AND ')}]`;
  if (trace) trace.pattern = pattern;
  const labels = [...(opts.labels ?? []), ...c.eventLabels, ...tags.labels];
  const ind = indicator(c, `indicator--${uuid}`, pattern, when, {
    name: value.slice(0, 256),
    description: str(a.comment),
    category: str(a.category),
    type,
    labels,
    validFrom: seenOf(a.first_seen) ?? when,
    validUntil: seenOf(a.last_seen),
    markings,
  });
  emit(c, ind, { confidence: opts.confidence, seenAt: seenOf(a.last_seen) ?? when });
  c.stixIdOf.set(uuid, ind.id);
  linkSdos(c, ind.id, [...c.eventSdoIds, ...galaxyIds(c, arr(a.Galaxy), when, markings)], when, markings);
  sightings(c, ind.id, arr(a.Sighting), markings);
}

/** yara / snort / suricata / sigma rules with to_ids → an indicator with that pattern_type. */
function ruleIndicator(
  c: Ctx,
  a: Json,
  uuid: string,
  patternType: string,
  value: string,
  when: string,
  labels: string[],
  markings: string[] | undefined,
  toIds: boolean,
): string | undefined {
  if (!toIds || value.trim() === '') return undefined;
  const ind = indicator(c, `indicator--${uuid}`, value, when, {
    name: `${patternType} rule`,
    description: str(a.comment),
    category: str(a.category),
    type: str(a.type) ?? patternType,
    labels: [...(c.opts.labels ?? []), ...c.eventLabels, ...labels],
    validFrom: seenOf(a.first_seen) ?? when,
    validUntil: seenOf(a.last_seen),
    markings,
  });
  ind.pattern_type = patternType;
  delete ind.pattern_version;
  emit(c, ind, { confidence: c.opts.confidence, seenAt: seenOf(a.last_seen) ?? when });
  return ind.id;
}

const CVE = /^CVE-\d{4}-\d{4,}$/i;

/** vulnerability (CVE ids) and campaign-name attributes → SDOs named after the attribute uuid. */
function domainObject(
  c: Ctx,
  a: Json,
  uuid: string,
  sdo: 'vulnerability' | 'campaign',
  value: string,
  when: string,
  markings: string[] | undefined,
): string | undefined {
  const name = value.trim();
  if (name === '' || name.length > 1024) return undefined;
  const o: StixObject = {
    type: sdo,
    spec_version: '2.1',
    id: `${sdo}--${uuid}`,
    created: when,
    modified: when,
    name: sdo === 'vulnerability' && CVE.test(name) ? name.toUpperCase() : name,
  };
  const comment = str(a.comment);
  if (comment) o.description = comment.slice(0, MAX_VALUE);
  if (sdo === 'vulnerability' && CVE.test(name))
    o.external_references = [{ source_name: 'cve', external_id: name.toUpperCase() }];
  if (c.identityRef) o.created_by_ref = c.identityRef;
  if (markings) o.object_marking_refs = markings;
  emit(c, o);
  return o.id;
}

function indicator(c: Ctx, id: string, pattern: string, when: string, p: IndicatorFields): Indicator {
  const ind: Indicator = {
    type: 'indicator',
    spec_version: '2.1',
    id,
    created: when,
    modified: when,
    name: p.name,
    pattern,
    pattern_type: 'stix',
    pattern_version: '2.1',
    valid_from: p.validFrom,
    indicator_types: ['malicious-activity'],
  };
  if (p.validUntil && Date.parse(p.validUntil) > Date.parse(p.validFrom)) ind.valid_until = p.validUntil;
  if (p.description) ind.description = p.description.slice(0, MAX_VALUE);
  if (p.category)
    ind.kill_chain_phases = [
      {
        kill_chain_name: 'misp-category',
        phase_name:
          p.category
            .toLowerCase()
            .replace(/[^a-z0-9]+/g, '-')
            .replace(/^-|-$/g, '') || 'other',
      },
    ];
  const labels = [...new Set([`misp:type="${p.type.slice(0, 64)}"`, ...p.labels])];
  ind.labels = labels;
  if (c.opts.confidence !== undefined) ind.confidence = c.opts.confidence;
  if (c.identityRef) ind.created_by_ref = c.identityRef;
  if (p.markings) ind.object_marking_refs = p.markings;
  return ind;
}

function galaxyIds(c: Ctx, galaxies: Json[], when: string, markings?: string[]): string[] {
  if (galaxies.length === 0) return [];
  const g = mapGalaxies(galaxies, c.opts.table, when, markings);
  for (const o of g.objects) emit(c, o);
  return g.objects.map((o) => o.id);
}

function linkSdos(c: Ctx, from: string, to: string[], when: string, markings?: string[], type = 'indicates'): void {
  for (const t of to) emit(c, relationship(type, from, t, when, markings));
}

/** Sightings of type 0 (seen) of one attribute → one sighting object of its indicator or observed-data, with count and first/last seen. */
function sightings(c: Ctx, indicatorId: string, list: Json[], markings?: string[]): void {
  let count = 0;
  let first = Infinity;
  let last = -Infinity;
  for (const s of list) {
    if ((str(s.type) ?? '0') !== '0') continue; // 1 = false positive, 2 = expiration: not sightings
    const t = epochOf(s.date_sighting);
    if (t === undefined) continue;
    count++;
    first = Math.min(first, t);
    last = Math.max(last, t);
  }
  if (count === 0) return;
  const when = isoOf(last);
  const o: StixObject = {
    type: 'sighting',
    spec_version: '2.1',
    id: deterministicId('sighting', `misp-sightings|${indicatorId}`),
    created: when,
    modified: when,
    sighting_of_ref: indicatorId,
    count,
    first_seen: isoOf(first),
    last_seen: isoOf(last),
  };
  if (markings) o.object_marking_refs = markings;
  emit(c, o);
}

/** A MISP object → its attributes mapped into one ObjectInfo, then grouped by object.ts. */
function mapObject(c: Ctx, o: Json, eventWhen: string): void {
  const uuid = uuidOf(o.uuid);
  if (bool(o.deleted)) return;
  const info: ObjectInfo = { uuid: uuid ?? '', name: str(o.name) ?? 'object', attributes: [], others: [] };
  for (const a of arr(o.Attribute)) mapAttribute(c, a, info);
  if (!uuid) {
    // without a uuid the object cannot be named: its attributes stand alone (observables as observed-data of each attribute)
    c.res.rejections.push({
      reason: 'invalid_uuid',
      message: `object ${JSON.stringify(info.name.slice(0, 64))} has no valid uuid: its observables are not grouped`,
      location: { source: c.opts.name },
    });
    for (const a of info.attributes) {
      for (const s of a.scos) emit(c, s);
    }
    return;
  }
  const hooks: ObjectHooks = {
    linkSdos: (from, to, when, markings, type) => linkSdos(c, from, to, when, markings, type),
    galaxyIds: (galaxies, when, markings) => galaxyIds(c, galaxies, when, markings),
    sightings: (of, list, markings) => sightings(c, of, list, markings),
    indicator: (id, pattern, when, p) => indicator(c, id, pattern, when, p),
  };
  emitObject(c, o, info, eventWhen, hooks);
}

/** A MISP attribute on its own: a type and a value, no event or object around it. */
function isAttribute(v: unknown): boolean {
  const d = obj(v);
  return (
    d !== undefined &&
    typeof d.type === 'string' &&
    d.value !== undefined &&
    d.Attribute === undefined &&
    d.Object === undefined &&
    d.info === undefined
  );
}

/**
 * The attributes of a document that holds bare attributes rather than an event (an exported
 * attribute, `{Attribute: {...}}`, `{Attribute: [...]}`, or a list of attributes), else undefined.
 */
export function bareAttributes(doc: unknown): Json[] | undefined {
  if (Array.isArray(doc)) return doc.length > 0 && doc.every(isAttribute) ? (doc as Json[]) : undefined;
  const d = obj(doc);
  if (!d) return undefined;
  if (isAttribute(d)) return [d];
  if (
    d.Event !== undefined ||
    d.response !== undefined ||
    d.uuid !== undefined ||
    d.info !== undefined ||
    d.Object !== undefined
  )
    return undefined;
  if (isAttribute(d.Attribute)) return [d.Attribute as Json];
  if (Array.isArray(d.Attribute) && d.Attribute.every(isAttribute)) return d.Attribute as Json[];
  return undefined;
}

/** The warning for a document of bare attributes: mapped, but without the context an event gives. */
export function bareAttributeWarning(file: string, count: number): string {
  return `${file} holds ${count} MISP attribute(s), not an event: mapped without event context (no report, creator org, event tags or galaxies)`;
}

/**
 * Unwraps `{Event: {...}}` / `{response: [{Event}]}` shapes to the event objects. Attribute and
 * object collections (`{response: {Attribute: [...]}}`, `{response: [{Object}]}`) become one
 * event without uuid, which makes no report.
 */
export function eventsOf(doc: unknown): Json[] {
  const bare = bareAttributes(doc);
  if (bare) return [{ Attribute: bare }];
  const d = obj(doc);
  if (Array.isArray(doc)) {
    const list = doc as unknown[];
    const objects = list.map((x) => obj(obj(x)?.Object)).filter((x): x is Json => x !== undefined);
    if (objects.length > 0 && objects.length === list.length) return [{ Object: objects }];
    return list.flatMap(eventsOf);
  }
  if (!d) return [];
  if (obj(d.Event)) return [d.Event as Json];
  const r = obj(d.response);
  if (r && Array.isArray(r.Attribute)) return [{ Attribute: r.Attribute }];
  if (Array.isArray(d.response)) return eventsOf(d.response);
  if (d.uuid !== undefined && (d.Attribute !== undefined || d.info !== undefined)) return [d];
  return [];
}

export function mapEvent(event: Json, opts: MispMapOptions, withTrace = false): EventResult {
  const res: EventResult = {
    items: [],
    rejections: [],
    attributes: 0,
    unknownTypes: new Map(),
    maxTimestamp: 0,
    references: 0,
    trace: [],
  };
  const uuid = uuidOf(event.uuid);
  const ets = epochOf(event.timestamp);
  if (ets !== undefined) res.maxTimestamp = ets;
  const date = str(event.date);
  const dateIso =
    date && /^\d{4}-\d{2}-\d{2}$/.test(date) && Number.isFinite(Date.parse(date)) ? `${date}T00:00:00.000Z` : undefined;
  const when = ets !== undefined ? isoOf(ets) : (dateIso ?? opts.now);
  const tags = readTags(arr(event.Tag));
  const c: Ctx = {
    opts,
    res,
    seen: new Set(),
    refs: [],
    eventTlp: tags.tlp,
    eventLabels: tags.labels,
    eventSdoIds: [],
    eventWhen: when,
    trace: withTrace,
    stixIdOf: new Map(),
    pendingRefs: [],
  };
  const markings = tlpMarkings(c, tags.tlp);
  const orgc = obj(event.Orgc);
  const orgUuid = orgc && uuidOf(orgc.uuid);
  if (orgc && orgUuid) {
    const identity: StixObject = {
      type: 'identity',
      spec_version: '2.1',
      id: `identity--${orgUuid}`,
      created: when,
      modified: when,
      name: (str(orgc.name) ?? orgUuid).slice(0, 256),
      identity_class: 'organization',
    };
    c.identityRef = identity.id;
    emit(c, identity);
  }
  const g = mapGalaxies(arr(event.Galaxy), opts.table, when, markings);
  for (const o of g.objects) emit(c, o);
  c.eventSdoIds = g.objects.map((o) => o.id);
  c.eventLabels = [...tags.labels, ...g.labels];
  for (const a of arr(event.Attribute)) mapAttribute(c, a);
  for (const o of arr(event.Object)) mapObject(c, o, when);
  resolveReferences(c);
  if (opts.report === false) return res;
  if (!uuid && event.uuid === undefined && event.info === undefined) return res; // a collection, not an event
  if (!uuid) {
    res.rejections.push({
      reason: 'invalid_uuid',
      message: 'event has no valid uuid: no report made',
      location: { source: opts.name },
    });
    return res;
  }
  const pub = epochOf(event.publish_timestamp);
  const report: StixObject = {
    type: 'report',
    spec_version: '2.1',
    id: `report--${uuid}`,
    created: dateIso && dateIso < when ? dateIso : when,
    modified: when,
    name: (str(event.info) ?? `MISP event ${uuid}`).slice(0, 1024),
    report_types: ['threat-report'],
    published: pub !== undefined ? isoOf(pub) : (dateIso ?? when),
    object_refs: c.refs.length ? [...c.refs] : [c.identityRef ?? `identity--${uuid}`],
  };
  const labels = [...(opts.labels ?? []), ...c.eventLabels];
  if (labels.length) report.labels = [...new Set(labels)];
  if (c.identityRef) report.created_by_ref = c.identityRef;
  if (markings) report.object_marking_refs = markings;
  report.external_references = [{ source_name: 'misp', external_id: uuid }];
  res.items.push({ object: report, confidence: opts.confidence });
  return res;
}
