/** The shared state of one event's mapping and the small object builders every part of it uses. */
import { tlpMarkingDefinition } from '../../src/access/markings.js';
import { deterministicId } from '../../src/core/ids.js';
import type { StixObject, TlpLevel } from '../../src/core/stix.js';
import type { MappedItem } from '../../src/pipeline/types.js';
import { markingFor, str, type Json } from './context.js';
import type { EventResult, MispMapOptions } from './types.js';

export const MAX_VALUE = 1 << 20;

/** An ObjectReference waiting for both ends to be mapped (its target may come later in the event). */
export interface PendingReference {
  id: string;
  type: string;
  source: string;
  target: string;
  when: string;
  markings?: string[];
}

export interface Ctx {
  opts: MispMapOptions;
  res: EventResult;
  seen: Set<string>;
  refs: string[];
  eventTlp?: TlpLevel;
  eventLabels: string[];
  eventSdoIds: string[];
  identityRef?: string;
  /** the event's time (its timestamp, else its date, else the run time): the time of attributes without their own */
  eventWhen: string;
  trace: boolean;
  /** MISP uuid (attribute or object) → the STIX object standing for it (observed-data, indicator, SDO, x-misp-attribute) */
  stixIdOf: Map<string, string>;
  pendingRefs: PendingReference[];
}

export function emit(c: Ctx, o: StixObject, extra?: Omit<MappedItem, 'object'>): void {
  if (c.seen.has(o.id)) return;
  c.seen.add(o.id);
  c.refs.push(o.id);
  c.res.items.push(extra ? { object: o, ...extra } : { object: o });
}

/** Relationship with a deterministic id over its ends (or the MISP reference uuid when there is one). */
export function relationship(
  type: string,
  src: string,
  dst: string,
  when: string,
  markings?: string[],
  id?: string,
): StixObject {
  const r: StixObject = {
    type: 'relationship',
    spec_version: '2.1',
    id: id ?? deterministicId('relationship', `${type}|${src}|${dst}`),
    created: when,
    modified: when,
    relationship_type: type,
    source_ref: src,
    target_ref: dst,
  };
  if (markings) r.object_marking_refs = markings;
  return r;
}

/**
 * The marking refs of a TLP tag, and (once per event) the TLP 2.0 marking-definition they name:
 * TLP 2.0 definitions are not predefined in STIX 2.1, so a converted bundle carries them.
 */
export function tlpMarkings(c: Ctx, tlp: TlpLevel | undefined): string[] | undefined {
  const refs = markingFor(tlp);
  if (tlp !== undefined) {
    const def = tlpMarkingDefinition(tlp);
    if (!c.seen.has(def.id)) {
      c.seen.add(def.id);
      c.res.items.push({ object: def });
    }
  }
  return refs;
}

/** An attribute kept without an observable: `x-misp-attribute--<uuid>` with type, category, value and comment. */
export function contextObject(
  c: Ctx,
  a: Json,
  uuid: string,
  type: string,
  when: string,
  markings?: string[],
  labels: string[] = [],
): StixObject {
  const o: StixObject = {
    type: 'x-misp-attribute',
    spec_version: '2.1',
    id: `x-misp-attribute--${uuid}`,
    created: when,
    modified: when,
    x_misp_type: type.slice(0, 128),
    x_misp_value: (str(a.value) ?? '').slice(0, MAX_VALUE),
  };
  const cat = str(a.category);
  if (cat) o.x_misp_category = cat.slice(0, 128);
  const comment = str(a.comment);
  if (comment) o.x_misp_comment = comment.slice(0, MAX_VALUE);
  const all = [...new Set([...(c.opts.labels ?? []), ...c.eventLabels, ...labels])];
  if (all.length) o.labels = all;
  if (c.identityRef) o.created_by_ref = c.identityRef;
  if (markings) o.object_marking_refs = markings;
  return o;
}

/**
 * `observed-data--<uuid>` grouping the observables of one attribute or object that is not an
 * indicator by itself (MISP `to_ids: false`), or the full observation behind an object indicator.
 */
export function observedData(
  c: Ctx,
  uuid: string,
  refs: string[],
  when: string,
  first: string | undefined,
  last: string | undefined,
  markings: string[] | undefined,
  labels: string[],
): StixObject {
  const firstObserved = first ?? when;
  const lastObserved = last && Date.parse(last) >= Date.parse(firstObserved) ? last : firstObserved;
  const o: StixObject = {
    type: 'observed-data',
    spec_version: '2.1',
    id: `observed-data--${uuid}`,
    created: when,
    modified: when,
    first_observed: firstObserved,
    last_observed: lastObserved,
    number_observed: 1,
    object_refs: refs,
  };
  const all = [...new Set([...(c.opts.labels ?? []), ...c.eventLabels, ...labels])];
  if (all.length) o.labels = all;
  if (c.identityRef) o.created_by_ref = c.identityRef;
  if (markings) o.object_marking_refs = markings;
  return o;
}
