/**
 * STIX 1.x constructs other than indicators and observables → STIX 2.1 SDOs and relationships:
 * TTP (malware, attack patterns, tools, infrastructure, victim targeting), threat actors,
 * campaigns, incidents, exploit targets (vulnerabilities), courses of action and reports.
 */
import type { ExternalReference, StixObject } from '../../src/core/stix.js';
import { attr, child, childrenNamed, textOf, type XmlElement } from '../../src/core/safe-xml.js';
import { confidenceOf, convertId, descriptionOf, killChainPhases, stixTimestamp, vocab } from './common.js';
import { identityName, mapIdentity, mapVictimTargeting } from './sdo-identity.js';
import type { SdoHost } from './sdo-host.js';

export type { SdoHost } from './sdo-host.js';

function base(type: string, id: string, created: string): StixObject {
  return { type, spec_version: '2.1', id, created, modified: created };
}

function withText(o: StixObject, el: XmlElement): StixObject {
  const d = descriptionOf(el);
  if (d) o.description = d;
  return o;
}

/** A TTP becomes one object per behaviour/resource; the first keeps the TTP's UUID. */
export function mapTtp(h: SdoHost, el: XmlElement): void {
  const stix1Id = attr(el, 'id');
  const created = h.timeOf(el);
  const title = textOf(el, 'Title');
  const kc = killChainPhases(child(el, 'Kill_Chain_Phases'), h.ctx.tables, h.kcNames);
  const made: StixObject[] = [];
  const next = (type: string, key: string): string =>
    made.length === 0 ? convertId(type, stix1Id, key) : convertId(type, undefined, `${stix1Id ?? key}#${made.length}`);
  const behavior = child(el, 'Behavior');
  for (const m of childrenNamed(child(behavior, 'Malware'), 'Malware_Instance')) {
    const name = textOf(m, 'Name') ?? textOf(m, 'Title') ?? title;
    if (!name) continue;
    const o = withText(base('malware', next('malware', `malware:${name}`), created), m);
    o.name = name;
    o.is_family = false;
    const types = childrenNamed(m, 'Type')
      .map((t) => vocab(h.ctx.tables.malware_types, textOf(t)))
      .filter((x): x is string => !!x);
    if (types.length) o.malware_types = [...new Set(types)];
    made.push(o);
  }
  for (const a of childrenNamed(child(behavior, 'Attack_Patterns'), 'Attack_Pattern')) {
    const name = textOf(a, 'Title') ?? title;
    if (!name) continue;
    const o = withText(base('attack-pattern', next('attack-pattern', `attack-pattern:${name}`), created), a);
    o.name = name;
    const capec = attr(a, 'capec_id');
    if (capec) o.external_references = [{ source_name: 'capec', external_id: capec }];
    made.push(o);
  }
  const resources = child(el, 'Resources');
  for (const t of childrenNamed(child(resources, 'Tools'), 'Tool')) {
    const name = textOf(t, 'Name') ?? textOf(t, 'Title') ?? title;
    if (!name) continue;
    const o = withText(base('tool', next('tool', `tool:${name}`), created), t);
    o.name = name;
    made.push(o);
  }
  for (const i of childrenNamed(resources, 'Infrastructure')) {
    const name = textOf(i, 'Title') ?? title;
    if (!name) continue;
    const o = withText(base('infrastructure', next('infrastructure', `infrastructure:${name}`), created), i);
    o.name = name;
    made.push(o);
  }
  for (const o of made) {
    if (kc) o.kill_chain_phases = kc;
    h.emit(o, stix1Id);
  }
  for (const i of childrenNamed(resources, 'Infrastructure')) {
    const infra = made.find((o) => o.type === 'infrastructure');
    if (!infra) break;
    for (const obs of childrenNamed(child(i, 'Observable_Characterization'), 'Observable')) {
      const od = h.observedData(obs);
      if (od) h.relate(infra.id, 'consists-of', od, created);
    }
  }
  mapVictimTargeting(h, el, made, created);
  for (const e of h.refs(child(el, 'Exploit_Targets'), 'Exploit_Target', 'Exploit_Target'))
    for (const o of made) h.relate(o.id, 'targets', e, created);
  for (const r of h.refs(child(el, 'Related_TTPs'), 'Related_TTP', 'TTP'))
    for (const o of made) h.relate(o.id, 'related-to', r, created);
}

export function mapThreatActor(h: SdoHost, el: XmlElement): void {
  const stix1Id = attr(el, 'id');
  const created = h.timeOf(el);
  const actorIdentity = identityName(child(el, 'Identity'));
  const name = textOf(el, 'Title') ?? actorIdentity;
  if (!name) return;
  const o = withText(base('threat-actor', convertId('threat-actor', stix1Id, `threat-actor:${name}`), created), el);
  o.name = name;
  const types = childrenNamed(el, 'Type')
    .map((t) => vocab({}, textOf(t, 'Value') ?? textOf(t)))
    .filter((x): x is string => !!x);
  if (types.length) o.threat_actor_types = [...new Set(types)];
  const goals = childrenNamed(el, 'Intended_Effect')
    .map((t) => textOf(t, 'Value') ?? textOf(t))
    .filter((x): x is string => !!x);
  if (goals.length) o.goals = goals;
  const soph = textOf(child(el, 'Sophistication'), 'Value');
  if (soph)
    o.sophistication = vocab(
      { Expert: 'expert', Innovator: 'innovator', Novice: 'novice', Practitioner: 'intermediate', Aspirant: 'minimal' },
      soph,
    );
  const conf = confidenceOf(child(el, 'Confidence'), h.ctx.tables);
  if (conf !== undefined) o.confidence = conf;
  h.emit(o, stix1Id);
  const ident = mapIdentity(h, child(el, 'Identity'), created);
  if (ident) h.relate(o.id, 'attributed-to', ident.id, created);
  for (const t of h.refs(child(el, 'Observed_TTPs'), 'Observed_TTP', 'TTP')) h.relate(o.id, 'uses', t, created);
  for (const c of h.refs(child(el, 'Associated_Campaigns'), 'Associated_Campaign', 'Campaign'))
    h.relate(c, 'attributed-to', o.id, created);
  for (const a of h.refs(child(el, 'Associated_Actors'), 'Associated_Actor', 'Threat_Actor'))
    h.relate(o.id, 'related-to', a, created);
}

export function mapCampaign(h: SdoHost, el: XmlElement): void {
  const stix1Id = attr(el, 'id');
  const created = h.timeOf(el);
  const names = childrenNamed(child(el, 'Names'), 'Name')
    .map((n) => textOf(n))
    .filter((x): x is string => !!x);
  const name = textOf(el, 'Title') ?? names[0];
  if (!name) return;
  const o = withText(base('campaign', convertId('campaign', stix1Id, `campaign:${name}`), created), el);
  o.name = name;
  const aliases = names.filter((n) => n !== name);
  if (aliases.length) o.aliases = aliases;
  const conf = confidenceOf(child(el, 'Confidence'), h.ctx.tables);
  if (conf !== undefined) o.confidence = conf;
  h.emit(o, stix1Id);
  for (const t of h.refs(child(el, 'Related_TTPs'), 'Related_TTP', 'TTP')) h.relate(o.id, 'uses', t, created);
  for (const a of childrenNamed(el, 'Attribution'))
    for (const t of h.refs(a, 'Attributed_Threat_Actor', 'Threat_Actor')) h.relate(o.id, 'attributed-to', t, created);
  for (const i of h.refs(child(el, 'Related_Indicators'), 'Related_Indicator', 'Indicator'))
    h.relate(i, 'indicates', o.id, created);
  for (const i of h.refs(child(el, 'Related_Incidents'), 'Related_Incident', 'Incident'))
    h.relate(i, 'attributed-to', o.id, created);
}

export function mapIncident(h: SdoHost, el: XmlElement): void {
  const stix1Id = attr(el, 'id');
  const created = h.timeOf(el);
  const name = textOf(el, 'Title');
  if (!name) return;
  const o = withText(base('incident', convertId('incident', stix1Id, `incident:${name}`), created), el);
  o.name = name;
  const cats = childrenNamed(child(el, 'Categories'), 'Category')
    .map((c) => vocab({}, textOf(c)))
    .filter((x): x is string => !!x);
  if (cats.length) o.labels = cats;
  const ext: ExternalReference[] = childrenNamed(el, 'External_ID')
    .map((x) => ({ source_name: attr(x, 'source') ?? 'external', external_id: textOf(x) ?? '' }))
    .filter((r) => r.external_id);
  if (ext.length) o.external_references = ext;
  const conf = confidenceOf(child(el, 'Confidence'), h.ctx.tables);
  if (conf !== undefined) o.confidence = conf;
  h.emit(o, stix1Id);
  for (const t of h.refs(child(el, 'Leveraged_TTPs'), 'Leveraged_TTP', 'TTP')) h.relate(o.id, 'related-to', t, created);
  for (const t of h.refs(child(el, 'Attributed_Threat_Actors'), 'Threat_Actor', 'Threat_Actor'))
    h.relate(o.id, 'attributed-to', t, created);
  for (const i of h.refs(child(el, 'Related_Indicators'), 'Related_Indicator', 'Indicator'))
    h.relate(i, 'related-to', o.id, created);
}

export function mapExploitTarget(h: SdoHost, el: XmlElement): void {
  const stix1Id = attr(el, 'id');
  const created = h.timeOf(el);
  const made: StixObject[] = [];
  for (const v of childrenNamed(el, 'Vulnerability')) {
    const cve = textOf(v, 'CVE_ID');
    const osvdb = textOf(v, 'OSVDB_ID');
    const name = textOf(v, 'Title') ?? cve ?? textOf(el, 'Title');
    if (!name) continue;
    const id =
      made.length === 0
        ? convertId('vulnerability', stix1Id, `vulnerability:${cve ?? name}`)
        : convertId('vulnerability', undefined, `${stix1Id ?? name}#${made.length}`);
    const o = withText(base('vulnerability', id, created), v);
    o.name = name;
    const refs: ExternalReference[] = [];
    if (cve) refs.push({ source_name: 'cve', external_id: cve });
    if (osvdb) refs.push({ source_name: 'osvdb', external_id: osvdb });
    if (refs.length) o.external_references = refs;
    made.push(o);
  }
  for (const o of made) h.emit(o, stix1Id);
  for (const c of h.refs(child(el, 'Potential_COAs'), 'Potential_COA', 'Course_Of_Action'))
    for (const o of made) h.relate(c, 'mitigates', o.id, created);
}

export function mapCourseOfAction(h: SdoHost, el: XmlElement): void {
  const stix1Id = attr(el, 'id');
  const created = h.timeOf(el);
  const name = textOf(el, 'Title');
  if (!name) return;
  const o = withText(
    base('course-of-action', convertId('course-of-action', stix1Id, `course-of-action:${name}`), created),
    el,
  );
  o.name = name;
  h.emit(o, stix1Id);
}

const REPORT_COLLECTIONS: [string, string][] = [
  ['Indicators', 'Indicator'],
  ['Observables', 'Observable'],
  ['TTPs', 'TTP'],
  ['Threat_Actors', 'Threat_Actor'],
  ['Campaigns', 'Campaign'],
  ['Incidents', 'Incident'],
  ['Exploit_Targets', 'Exploit_Target'],
  ['Courses_Of_Action', 'Course_Of_Action'],
];

export function mapReport(h: SdoHost, el: XmlElement): void {
  const stix1Id = attr(el, 'id');
  const created = h.timeOf(el);
  const header = child(el, 'Header');
  const name = textOf(header, 'Title');
  if (!name) return;
  const refs: string[] = [];
  for (const [coll, local] of REPORT_COLLECTIONS) {
    for (const c of childrenNamed(child(el, coll), local)) {
      const r = attr(c, 'idref') ?? attr(c, 'id');
      if (!r) continue;
      const ids = h.converted.get(r);
      if (ids) refs.push(...ids);
      else h.stats.unresolvedIdrefs++;
    }
  }
  if (refs.length === 0) return; // a 2.1 report needs at least one object
  const o = base('report', convertId('report', stix1Id, `report:${name}`), created);
  o.name = name;
  const d = header ? descriptionOf(header) : undefined;
  if (d) o.description = d;
  const intents = childrenNamed(header, 'Intent')
    .map((i) => vocab(h.ctx.tables.report_types, textOf(i)))
    .filter((x): x is string => !!x);
  if (intents.length) o.report_types = [...new Set(intents)];
  o.published = stixTimestamp(textOf(header, 'Information_Source', 'Time', 'Produced_Time')) ?? created;
  o.object_refs = [...new Set(refs)];
  const author = h.identity(child(header, 'Information_Source'), created);
  if (author) o.created_by_ref = author;
  h.emit(o, stix1Id);
}
