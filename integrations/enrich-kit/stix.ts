import { deterministicId, observableScoId } from '../../src/core/ids.js';
import { normaliseObservable } from '../../src/core/observable.js';
import { stixTime, type Observable, type ObservableType, type StixObject } from '../../src/core/stix.js';

/**
 * STIX 2.1 building blocks shared by the enrichers. Ids are deterministic: SCOs by the spec's
 * UUIDv5 over their value, relationships, notes and observed-data by UUIDv5 (stixgate namespace)
 * over a key naming the service and the subject, so the same answer always gives the same ids
 * and a later answer about the same subject is a new version of the same object.
 */

export function sco(o: Observable): StixObject {
  return { type: o.type, spec_version: '2.1', id: observableScoId(o), value: o.value };
}

/** A normalised observable of one of `types`, or undefined when the text is none of them. */
export function observableOf(text: string, types: readonly ObservableType[]): Observable | undefined {
  const t = text.trim().replace(/\.$/, '');
  if (t === '' || t.length > 300) return undefined;
  for (const type of types) {
    const r = normaliseObservable(type, t);
    if (r.ok && !r.observable.cidr) return r.observable;
  }
  return undefined;
}

export const IP_TYPES: readonly ObservableType[] = ['ipv4-addr', 'ipv6-addr'];

/** `source resolves-to target` (domain-name → ipv4-addr / ipv6-addr / domain-name), one id per pair. */
export function resolvesTo(
  sourceRef: string,
  targetRef: string,
  created: string,
  modified: string,
  description?: string,
): StixObject {
  return {
    type: 'relationship',
    spec_version: '2.1',
    id: deterministicId('relationship', `resolves-to|${sourceRef}|${targetRef}`),
    created,
    modified,
    relationship_type: 'resolves-to',
    source_ref: sourceRef,
    target_ref: targetRef,
    ...(description ? { description } : {}),
  };
}

/**
 * A note about `subjectId` from `service`. `id` is the runner's lookup-note id of the subject
 * (src/enrich/records.ts `lookupNoteId(enricher id, observable)`), so the runner fills its
 * lookup note with this note's text and properties instead of storing two notes.
 */
export function serviceNote(
  id: string,
  service: string,
  subjectId: string,
  time: string,
  abstract: string,
  content: string,
  extra: Record<string, unknown>,
): StixObject {
  return {
    type: 'note',
    spec_version: '2.1',
    id,
    created: time,
    modified: time,
    abstract,
    content,
    authors: [service],
    object_refs: [subjectId],
    ...extra,
  };
}

/** Epoch ms of a service timestamp (RFC 3339, or without a zone meaning UTC); undefined when unparseable. */
export function parseServiceTime(v: unknown): number | undefined {
  if (typeof v !== 'string' || v.length > 40) return undefined;
  const m = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(\.\d+)?(Z|[+-]\d{2}:?\d{2})?$/i.exec(v.trim());
  if (!m) return /^\d{4}-\d{2}-\d{2}$/.test(v) ? Date.parse(`${v}T00:00:00Z`) : undefined;
  const frac = m[3] ? m[3].slice(0, 4) : '';
  const ms = Date.parse(`${m[1]}T${m[2]}${frac}${m[4] ? m[4].toUpperCase() : 'Z'}`);
  return Number.isNaN(ms) ? undefined : ms;
}

/** STIX timestamp of a service time, or of `fallback` (the injected clock). */
export function timeOr(v: unknown, fallback: number): string {
  return stixTime(parseServiceTime(v) ?? fallback);
}

/** Unique by `type:value`, first occurrence kept, at most `max`. */
export function uniqueObservables(list: Observable[], max: number): Observable[] {
  const seen = new Set<string>();
  const out: Observable[] = [];
  for (const o of list) {
    const k = `${o.type}:${o.value}`;
    if (seen.has(k)) continue;
    seen.add(k);
    out.push(o);
    if (out.length >= max) break;
  }
  return out;
}
