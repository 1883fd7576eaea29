import { observableScoId } from '../../src/core/ids.js';
import { stixTime, type Observable } from '../../src/core/stix.js';
import type { EnrichmentResult } from '../../src/enrich/types.js';
import { isRecord } from '../enrich-kit/http.js';
import { parseServiceTime, sco, serviceNote } from '../enrich-kit/stix.js';

/**
 * RDAP (RFC 9083) objects → STIX: a `note` on the looked-up domain or IP with the registration
 * facts in prose and, structured, in `x_stixgate_rdap`. Domains: registrar (name, IANA id),
 * registration / expiration / last-changed dates, status, name servers, the registrar's abuse
 * contact. IP networks: name, handle, range and CIDRs, country, registrant, abuse contact, dates.
 * The note's timestamps are the latest past event (the "last update of RDAP database" event
 * excluded), or the injected clock. RDAP gives no verdict.
 */

const SERVICE = 'rdap';
export const RDAP_MEDIA_TYPE = 'application/rdap+json';
const MAX_LIST = 50;
const MAX_ENTITIES = 100;

export type Fail = (what: string, path: string) => Error;

interface Contact {
  name?: string;
  email?: string;
  phone?: string;
}

function str(v: unknown, max = 300): string | undefined {
  return typeof v === 'string' && v.trim() !== '' ? v.trim().slice(0, max) : undefined;
}

/** fn / org, email and tel of a jCard (RFC 7095) `vcardArray`. */
export function vcardContact(v: unknown): Contact {
  const out: Contact = {};
  if (!Array.isArray(v) || v[0] !== 'vcard' || !Array.isArray(v[1])) return out;
  for (const prop of (v[1] as unknown[]).slice(0, 200)) {
    if (!Array.isArray(prop) || typeof prop[0] !== 'string') continue;
    const value = Array.isArray(prop[3]) ? prop[3].filter((x) => typeof x === 'string').join(' ') : prop[3];
    const name = prop[0].toLowerCase();
    if ((name === 'fn' || (name === 'org' && !out.name)) && str(value)) out.name = str(value);
    else if (name === 'email' && !out.email && str(value)) out.email = str(value);
    else if (name === 'tel' && !out.phone) {
      const tel = str(value);
      if (tel) out.phone = tel.replace(/^tel:/i, '');
    }
  }
  return out;
}

interface FoundEntity {
  roles: string[];
  contact: Contact;
  publicIds: { type: string; identifier: string }[];
  parentRoles: string[];
}

/** Entities and their nested entities (depth ≤ 3, at most MAX_ENTITIES), with the roles of their parent. */
function entities(doc: Record<string, unknown>): FoundEntity[] {
  const out: FoundEntity[] = [];
  const walk = (list: unknown, parentRoles: string[], depth: number): void => {
    if (!Array.isArray(list) || depth > 3) return;
    for (const e of list) {
      if (out.length >= MAX_ENTITIES) return;
      if (!isRecord(e)) continue;
      const roles = Array.isArray(e.roles)
        ? e.roles.filter((r): r is string => typeof r === 'string').map((r) => r.toLowerCase())
        : [];
      const publicIds = Array.isArray(e.publicIds)
        ? e.publicIds
            .filter(isRecord)
            .map((p) => ({ type: str(p.type) ?? '', identifier: str(p.identifier) ?? '' }))
            .filter((p) => p.identifier)
        : [];
      out.push({ roles, contact: vcardContact(e.vcardArray), publicIds, parentRoles });
      walk(e.entities, roles, depth + 1);
    }
  };
  walk(doc.entities, [], 1);
  return out;
}

/** eventAction → epoch ms of the first such event. */
function events(doc: Record<string, unknown>): Map<string, number> {
  const out = new Map<string, number>();
  if (!Array.isArray(doc.events)) return out;
  for (const e of doc.events.slice(0, 100)) {
    if (!isRecord(e) || typeof e.eventAction !== 'string') continue;
    const t = parseServiceTime(e.eventDate);
    if (t !== undefined && !out.has(e.eventAction.toLowerCase())) out.set(e.eventAction.toLowerCase(), t);
  }
  return out;
}

function noteTime(ev: Map<string, number>, now: number): string {
  let best: number | undefined;
  for (const [action, t] of ev) {
    if (action === 'last update of rdap database' || t > now) continue;
    if (best === undefined || t > best) best = t;
  }
  return stixTime(best ?? now);
}

function selfLink(doc: Record<string, unknown>): { source_name: string; url: string }[] {
  const l = Array.isArray(doc.links)
    ? doc.links.find(
        (x) => isRecord(x) && x.rel === 'self' && typeof x.href === 'string' && /^https?:\/\//.test(x.href),
      )
    : undefined;
  return l ? [{ source_name: SERVICE, url: (l as { href: string }).href.slice(0, 2000) }] : [];
}

/** The time of the enrichment and the id of the note it writes. */
interface MapOptions {
  now: number;
  noteId: string;
}

/** Refuses a document of another RDAP object class than the one asked for. */
function expectClass(doc: Record<string, unknown>, objectClass: string, fail: Fail): void {
  if (doc.objectClassName !== objectClass)
    throw fail(
      `objectClassName is ${JSON.stringify(doc.objectClassName)}, expected "${objectClass}"`,
      '$.objectClassName',
    );
}

const iso = (t: number | undefined): string | undefined => (t === undefined ? undefined : stixTime(t));
const defined = (o: Record<string, unknown>): Record<string, unknown> =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && !(Array.isArray(v) && v.length === 0)));
const line = (label: string, v: string | undefined): string[] => (v ? [`${label}: ${v}`] : []);

export function mapRdapDomain(
  subject: Observable,
  doc: Record<string, unknown>,
  opts: MapOptions,
  fail: Fail,
): EnrichmentResult {
  const { now } = opts;
  expectClass(doc, 'domain', fail);
  const ev = events(doc);
  const ents = entities(doc);
  const registrar = ents.find((e) => e.roles.includes('registrar'));
  const abuse = ents.find(
    (e) => e.roles.includes('abuse') && (e.parentRoles.includes('registrar') || e.parentRoles.length === 0),
  );
  const status = Array.isArray(doc.status)
    ? doc.status.filter((x): x is string => typeof x === 'string').slice(0, MAX_LIST)
    : [];
  const nameservers = Array.isArray(doc.nameservers)
    ? [
        ...new Set(
          doc.nameservers
            .filter(isRecord)
            .map((n) => str(n.ldhName)?.toLowerCase().replace(/\.$/, ''))
            .filter((n): n is string => n !== undefined),
        ),
      ].slice(0, MAX_LIST)
    : [];
  const info = defined({
    object_class: 'domain',
    handle: str(doc.handle),
    registrar: registrar?.contact.name,
    registrar_iana_id: registrar?.publicIds.find((p) => /iana registrar id/i.test(p.type))?.identifier,
    registered: iso(ev.get('registration')),
    expires: iso(ev.get('expiration')),
    last_changed: iso(ev.get('last changed')),
    status,
    nameservers,
    abuse_email: abuse?.contact.email,
    abuse_phone: abuse?.contact.phone,
  });
  const lines = [
    ...line(
      'Registrar',
      info.registrar
        ? `${info.registrar}${info.registrar_iana_id ? ` (IANA ID ${info.registrar_iana_id})` : ''}`
        : undefined,
    ),
    ...line('Registered', info.registered as string | undefined),
    ...line('Expires', info.expires as string | undefined),
    ...line('Last changed', info.last_changed as string | undefined),
    ...line('Status', status.join(', ') || undefined),
    ...line('Name servers', nameservers.join(', ') || undefined),
    ...line('Abuse contact', [info.abuse_email, info.abuse_phone].filter(Boolean).join(', ') || undefined),
  ];
  const id = observableScoId(subject);
  const abstract = `RDAP: ${subject.value}${info.registered ? ` registered ${(info.registered as string).slice(0, 10)}` : ''}${info.registrar ? ` via ${info.registrar}` : ''}`;
  const note = serviceNote(
    opts.noteId,
    SERVICE,
    id,
    noteTime(ev, now),
    abstract,
    lines.join('\n') || 'No registration data published.',
    { ...withRefs(selfLink(doc)), x_stixgate_rdap: info },
  );
  return { objects: [sco(subject), note] };
}

export function mapRdapNetwork(
  subject: Observable,
  doc: Record<string, unknown>,
  opts: MapOptions,
  fail: Fail,
): EnrichmentResult {
  const { now } = opts;
  expectClass(doc, 'ip network', fail);
  const start = str(doc.startAddress, 64);
  const end = str(doc.endAddress, 64);
  if (!start || !end)
    throw fail('startAddress and endAddress are required for an ip network', start ? '$.endAddress' : '$.startAddress');
  const ev = events(doc);
  const ents = entities(doc);
  const registrant = ents.find((e) => e.roles.includes('registrant'));
  const abuse = ents.find((e) => e.roles.includes('abuse'));
  const cidrs = Array.isArray(doc.cidr0_cidrs)
    ? doc.cidr0_cidrs
        .filter(isRecord)
        .map((c) => {
          const p = str(c.v4prefix, 64) ?? str(c.v6prefix, 64);
          return p && Number.isInteger(c.length) ? `${p}/${c.length}` : undefined;
        })
        .filter((c): c is string => c !== undefined)
        .slice(0, MAX_LIST)
    : [];
  const info = defined({
    object_class: 'ip network',
    handle: str(doc.handle),
    name: str(doc.name),
    type: str(doc.type),
    start_address: start,
    end_address: end,
    cidrs,
    country: str(doc.country, 8),
    parent_handle: str(doc.parentHandle),
    registrant: registrant?.contact.name,
    abuse_email: abuse?.contact.email,
    abuse_phone: abuse?.contact.phone,
    registered: iso(ev.get('registration')),
    last_changed: iso(ev.get('last changed')),
  });
  const lines = [
    ...line(
      'Network',
      [info.name, info.handle ? `(${info.handle})` : undefined].filter(Boolean).join(' ') || undefined,
    ),
    `Range: ${start} - ${end}${cidrs.length ? ` (${cidrs.join(', ')})` : ''}`,
    ...line('Country', info.country as string | undefined),
    ...line('Registrant', info.registrant as string | undefined),
    ...line('Abuse contact', [info.abuse_email, info.abuse_phone].filter(Boolean).join(', ') || undefined),
    ...line('Registered', info.registered as string | undefined),
    ...line('Last changed', info.last_changed as string | undefined),
  ];
  const id = observableScoId(subject);
  const abstract = `RDAP: ${subject.value} is in ${info.name ?? `${start} - ${end}`}${info.registrant ? ` (${info.registrant})` : ''}`;
  const note = serviceNote(opts.noteId, SERVICE, id, noteTime(ev, now), abstract, lines.join('\n'), {
    ...withRefs(selfLink(doc)),
    x_stixgate_rdap: info,
  });
  return { objects: [sco(subject), note] };
}

function withRefs(refs: { source_name: string; url: string }[]): Record<string, unknown> {
  return refs.length ? { external_references: refs } : {};
}
