/**
 * STIX 1.x identities (plain or CIQ) → STIX 2.1 identities, their `location`s (`located-at`), and
 * TTP victim targeting → the targeted identity.
 */
import { deterministicId } from '../../src/core/ids.js';
import type { StixObject } from '../../src/core/stix.js';
import { attr, child, childrenNamed, path, textOf, type XmlElement } from '../../src/core/safe-xml.js';
import { convertId, descriptionOf } from './common.js';
import type { SdoHost } from './sdo-host.js';

/** The name of a STIX 1.x identity: `Name`, else the CIQ party's organisation or person name. */
export function identityName(idEl: XmlElement | undefined): string | undefined {
  if (!idEl) return undefined;
  const party = path(idEl, 'Specification', 'PartyName');
  return (
    textOf(idEl, 'Name') ??
    textOf(party, 'OrganisationName', 'NameElement') ??
    textOf(party, 'PersonName', 'NameElement') ??
    textOf(party, 'NameLine')
  );
}

function identityClass(idEl: XmlElement | undefined): string {
  const party = path(idEl, 'Specification', 'PartyName');
  if (child(party, 'OrganisationName')) return 'organization';
  if (child(party, 'PersonName')) return 'individual';
  return 'unknown';
}

/** A CIQ name element's code (`xal:NameCode="US"`) or its text. */
function nameOf(el: XmlElement | undefined): string | undefined {
  const ne = child(el, 'NameElement');
  return attr(ne, 'NameCode') ?? textOf(ne);
}

/**
 * One `location` per CIQ address (country and administrative area), shared by every identity at
 * the same place (id over the place), and `located-at` from the identity.
 */
export function ciqLocations(h: SdoHost, idEl: XmlElement | undefined, identityId: string, created: string): void {
  for (const a of childrenNamed(path(idEl, 'Specification', 'Addresses'), 'Address')) {
    const country = nameOf(child(a, 'Country'));
    const area = nameOf(child(a, 'AdministrativeArea'));
    if (!country) continue; // STIX 2.1 needs a region, a country or coordinates
    const loc: StixObject = {
      type: 'location',
      spec_version: '2.1',
      id: deterministicId('location', `stix1-ciq:c=${country ?? ''};aa=${area ?? ''}`),
      created,
      modified: created,
    };
    loc.country = country;
    if (area) loc.administrative_area = area;
    h.emit(loc);
    h.relate(identityId, 'located-at', loc.id, created);
  }
}

/** Sector names of a CIQ party (`OrganisationInfo/@IndustryType`), in the industry-sector-ov form. */
function sectors(idEl: XmlElement | undefined): string[] {
  const info = path(idEl, 'Specification', 'OrganisationInfo');
  const t = attr(info, 'IndustryType');
  if (!t) return [];
  return t
    .split(/[,;|]/)
    .map((x) =>
      x
        .trim()
        .toLowerCase()
        .replace(/[^a-z0-9]+/g, '-')
        .replace(/^-|-$/g, ''),
    )
    .filter(Boolean);
}

/**
 * An identity from a STIX 1.x Identity element (threat actor identity, information source),
 * with its locations. Undefined when it has no name.
 */
export function mapIdentity(
  h: SdoHost,
  idEl: XmlElement | undefined,
  created: string,
  fallbackKey?: string,
): StixObject | undefined {
  const name = identityName(idEl);
  if (!idEl || !name) return undefined;
  const o: StixObject = {
    type: 'identity',
    spec_version: '2.1',
    id: convertId('identity', attr(idEl, 'id'), `identity:${fallbackKey ?? name}`),
    created,
    modified: created,
    name,
  };
  const d = descriptionOf(idEl);
  if (d) o.description = d;
  o.identity_class = identityClass(idEl);
  const s = sectors(idEl);
  if (s.length) o.sectors = s;
  h.emit(o, attr(idEl, 'id'));
  ciqLocations(h, idEl, o.id, created);
  return o;
}

/**
 * TTP Victim_Targeting → the targeted identity (named after its CIQ identity, else the TTP title),
 * targeted information and systems kept as `x_stix1_targeted_information` /
 * `x_stix1_targeted_systems`. A TTP that is only victim targeting becomes this identity under
 * the TTP's own id, so what the TTP was related to now targets it; otherwise the TTP's objects
 * `target` it.
 */
export function mapVictimTargeting(h: SdoHost, ttp: XmlElement, made: readonly StixObject[], created: string): void {
  const victim = child(ttp, 'Victim_Targeting');
  if (!victim) return;
  const stix1Id = attr(ttp, 'id');
  const idEl = child(victim, 'Identity');
  const title = textOf(ttp, 'Title');
  const name = identityName(idEl) ?? title ?? 'Victim Targeting';
  const own = made.length === 0;
  const v: StixObject = {
    type: 'identity',
    spec_version: '2.1',
    id: own
      ? convertId('identity', stix1Id, `victim:${name}`)
      : deterministicId('identity', `victim:${stix1Id ?? name}`),
    created,
    modified: created,
    name,
    identity_class: idEl ? identityClass(idEl) : 'unknown',
  };
  const s = sectors(idEl);
  if (s.length) v.sectors = s;
  const info = childrenNamed(victim, 'Targeted_Information')
    .map((x) => textOf(x))
    .filter((x): x is string => !!x);
  if (info.length) v.x_stix1_targeted_information = info;
  const systems = childrenNamed(victim, 'Targeted_Systems')
    .map((x) => textOf(x))
    .filter((x): x is string => !!x);
  if (systems.length) v.x_stix1_targeted_systems = systems;
  h.emit(v, own ? stix1Id : undefined);
  ciqLocations(h, idEl, v.id, created);
  for (const o of made) h.relate(o.id, 'targets', v.id, created);
}
