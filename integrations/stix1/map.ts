/**
 * STIX 1.1.1 / 1.2 package → STIX 2.1 objects. Pure: time comes from the package (or the
 * injected fallback), ids from the package's own ids (UUID kept, as stix2-elevator does) or
 * UUIDv5s over stable keys.
 */
import { at } from '../../src/core/indexed.js';
import { StixgateError, type Rejection } from '../../src/core/errors.js';
import { deterministicId } from '../../src/core/ids.js';
import { isSco, type StixObject } from '../../src/core/stix.js';
import { attr, child, childrenNamed, textOf, xsiType, type XmlElement } from '../../src/core/safe-xml.js';
import { convertId, stixTimestamp, type Stix1MapContext } from './common.js';
import { markingsOf } from './markings.js';
import { foldsInto, PatternBuilder, type Unmapped } from './pattern.js';
import { WorkBudget } from '../../src/core/work-budget.js';
import { isStixId } from '../../src/core/stix-check.js';
import { objectValueProblem, VALIDITY_POLICY } from '../../src/core/value-gate.js';
import { scosFromFacts } from './sco.js';
import { mapIndicator, type IndicatorHost } from './indicator.js';
import {
  mapCampaign,
  mapCourseOfAction,
  mapExploitTarget,
  mapIncident,
  mapReport,
  mapThreatActor,
  mapTtp,
  type SdoHost,
} from './sdo.js';

export interface Stix1MapStats {
  indicators: number;
  observables: number;
  patterns: number;
  /** CybOX objects (in patterns or observables) with no STIX 2.1 mapping, by CybOX type. */
  unmapped: Record<string, number>;
  unresolvedIdrefs: number;
  unmappedMarkings: number;
}

export interface Stix1MapResult {
  objects: StixObject[];
  rejections: Rejection[];
  stats: Stix1MapStats;
  /**
   * The record time of each indicator (the time model, docs/scoring.md §2a): its latest sighting,
   * else its own timestamp, else the package's Produced_Time. Absent: undated (the poll time).
   */
  seenAt: Map<string, string>;
}

const CONSTRUCTS = new Set([
  'Indicator',
  'TTP',
  'Threat_Actor',
  'Campaign',
  'Incident',
  'Exploit_Target',
  'Course_Of_Action',
  'Report',
]);
const COLLECTIONS = new Set([
  'Indicators',
  'TTPs',
  'Threat_Actors',
  'Campaigns',
  'Incidents',
  'Exploit_Targets',
  'Courses_Of_Action',
  'Reports',
]);

interface PendingRel {
  /** A STIX 2.1 id, or a STIX 1.x id to resolve. */
  source: string;
  type: string;
  target: string;
  created: string;
}

export function isStix1Package(root: XmlElement): boolean {
  return root.local === 'STIX_Package';
}

export class Stix1Mapper implements SdoHost, IndicatorHost {
  readonly objects: StixObject[] = [];
  readonly rejections: Rejection[] = [];
  readonly stats: Stix1MapStats = {
    indicators: 0,
    observables: 0,
    patterns: 0,
    unmapped: Object.create(null) as Record<string, number>,
    unresolvedIdrefs: 0,
    unmappedMarkings: 0,
  };
  readonly byId = new Map<string, XmlElement>();
  /** STIX 1.x id → the STIX 2.1 ids it became. */
  readonly converted = new Map<string, string[]>();
  readonly kcNames = new Map<string, string>();
  private readonly rels: PendingRel[] = [];
  private readonly ids = new Set<string>();
  readonly packageTime: string;
  /** The package's Information_Source Produced_Time (not the document's mtime). */
  readonly producedTime: string | undefined;
  readonly seenAt = new Map<string, string>();
  readonly builder: PatternBuilder;
  private readonly inIndicators = new Set<string>();
  private observableOf: Map<string, XmlElement> | undefined;

  constructor(
    private readonly root: XmlElement,
    readonly ctx: Stix1MapContext,
  ) {
    const elements = this.index(root);
    const where = { source: ctx.sourceId, ...(ctx.file ? { file: ctx.file } : {}) };
    this.builder = new PatternBuilder({ byId: this.byId }, WorkBudget.forElements(elements, 'STIX 1.x package', where));
    this.producedTime = stixTimestamp(textOf(root, 'STIX_Header', 'Information_Source', 'Time', 'Produced_Time'));
    this.packageTime = stixTimestamp(attr(root, 'timestamp')) ?? this.producedTime ?? ctx.fallbackTime;
  }

  /** Indexes ids and kill-chain names; returns the number of elements. */
  private index(el: XmlElement): number {
    const stack = [el];
    let n = 0;
    for (let e = stack.pop(); e !== undefined; e = stack.pop()) {
      n++;
      const id = e.attrs.id;
      if (id !== undefined && !this.byId.has(id) && !(e.local === 'Indicator' && attr(e, 'operator')))
        this.byId.set(id, e);
      const name = attr(e, 'name');
      const kcId =
        e.local === 'Kill_Chain_Phase' ? attr(e, 'phase_id') : e.local === 'Kill_Chain' ? attr(e, 'id') : undefined;
      if (kcId && name) this.kcNames.set(kcId, name);
      for (let i = e.children.length - 1; i >= 0; i--) stack.push(at(e.children, i));
    }
    return n;
  }

  timeOf(el: XmlElement): string {
    return stixTimestamp(attr(el, 'timestamp')) ?? this.packageTime;
  }

  emit(o: StixObject, stix1Id?: string): void {
    if (this.ids.has(o.id)) return;
    this.ids.add(o.id);
    this.objects.push(o);
    if (stix1Id) {
      const list = this.converted.get(stix1Id) ?? [];
      list.push(o.id);
      this.converted.set(stix1Id, list);
    }
  }

  relate(source: string, type: string, target: string, created: string): void {
    this.rels.push({ source, type, target, created });
  }

  /** Ids (idref or id) of the `local` elements below `wrapper` children (e.g. Indicated_TTP/TTP). */
  refs(el: XmlElement | undefined, wrapper: string, local: string): string[] {
    const out: string[] = [];
    for (const w of childrenNamed(el, wrapper)) {
      const self = w.local === local && (attr(w, 'idref') !== undefined || attr(w, 'id') !== undefined);
      for (const c of self ? [w] : childrenNamed(w, local)) {
        const id = attr(c, 'idref') ?? attr(c, 'id');
        if (id) out.push(id);
      }
    }
    return out;
  }

  countUnmapped(list: readonly Unmapped[]): void {
    for (const u of list) this.stats.unmapped[u.cybox_type] = (this.stats.unmapped[u.cybox_type] ?? 0) + 1;
  }

  map(): Stix1MapResult {
    const header = child(this.root, 'STIX_Header');
    const created = this.packageTime;
    const pkgMarkings = markingsOf(child(header, 'Handling'), this.ctx, created);
    this.stats.unmappedMarkings += pkgMarkings.unmapped;
    for (const m of pkgMarkings.objects) this.emit(m);
    const identity = this.identity(child(header, 'Information_Source'), created);

    // Observables referenced from indicators are patterns, not observed data.
    for (const ind of this.constructs('Indicator')) this.collectIdrefs(ind);

    for (const el of this.constructs()) {
      const before = this.objects.length;
      switch (el.local) {
        case 'Indicator':
          mapIndicator(this, el);
          break;
        case 'TTP':
          mapTtp(this, el);
          break;
        case 'Threat_Actor':
          mapThreatActor(this, el);
          break;
        case 'Campaign':
          mapCampaign(this, el);
          break;
        case 'Incident':
          mapIncident(this, el);
          break;
        case 'Exploit_Target':
          mapExploitTarget(this, el);
          break;
        case 'Course_Of_Action':
          mapCourseOfAction(this, el);
          break;
        default:
          break;
      }
      // Construct-level markings.
      const own = markingsOf(child(el, 'Handling'), this.ctx, this.timeOf(el));
      this.stats.unmappedMarkings += own.unmapped;
      for (const m of own.objects) this.emit(m);
      if (own.refs.length)
        for (let i = before; i < this.objects.length; i++) addMarkings(at(this.objects, i), own.refs);
    }
    for (const obs of childrenNamed(child(this.root, 'Observables'), 'Observable')) {
      const id = attr(obs, 'id');
      if (id && this.inIndicators.has(id)) continue;
      this.mapObservedData(obs);
    }
    this.resolveRelationships();
    // Reports last: their object_refs point at everything above.
    for (const el of this.constructs('Report')) mapReport(this, el);

    for (const o of this.objects) {
      if (o.type === 'marking-definition') continue;
      if (pkgMarkings.refs.length) addMarkings(o, pkgMarkings.refs);
      if (identity && o.id !== identity && o.created_by_ref === undefined && !isSco(o.type))
        o.created_by_ref = identity;
    }
    this.countUnmapped(this.builder.unmapped);
    return { objects: this.objects, rejections: this.rejections, stats: this.stats, seenAt: this.seenAt };
  }

  /** Construct definitions in document order (inline ones included, idref-only references and OpenIOC test mechanisms excluded). */
  constructs(only?: string): XmlElement[] {
    const out: XmlElement[] = [];
    const walk = (e: XmlElement, parentLocal: string): void => {
      for (const c of e.children) {
        if (c.local === 'Test_Mechanisms' || c.local === 'Observable' || c.local === 'Object') continue;
        if (CONSTRUCTS.has(c.local) && (only === undefined || c.local === only)) {
          const refOnly = attr(c, 'idref') !== undefined && c.children.length === 0;
          if (!refOnly && (attr(c, 'id') !== undefined || xsiType(c) !== undefined || COLLECTIONS.has(parentLocal)))
            out.push(c);
        }
        walk(c, c.local);
      }
    };
    walk(this.root, this.root.local);
    return out;
  }

  /** Marks the package observables an indicator uses (directly, or through idrefs of the observables it uses). */
  private collectIdrefs(el: XmlElement): void {
    if (!this.observableOf) {
      this.observableOf = new Map();
      for (const obs of childrenNamed(child(this.root, 'Observables'), 'Observable')) {
        const id = attr(obs, 'id');
        if (!id) continue;
        const stack = [obs];
        for (let e = stack.pop(); e !== undefined; e = stack.pop()) {
          if (e.attrs.id !== undefined) this.observableOf.set(e.attrs.id, obs);
          for (const c of e.children) stack.push(c);
        }
      }
    }
    const stack = [el];
    for (let e = stack.pop(); e !== undefined; e = stack.pop()) {
      const r = e.attrs.idref;
      if (r !== undefined) {
        const obs = this.observableOf.get(r);
        const id = obs ? attr(obs, 'id') : undefined;
        if (obs && id && !this.inIndicators.has(id)) {
          this.inIndicators.add(id);
          stack.push(obs);
        }
      }
      for (const c of e.children) stack.push(c);
    }
  }

  identity(src: XmlElement | undefined, created: string): string | undefined {
    const idEl = child(src, 'Identity');
    const name = textOf(idEl, 'Name') ?? textOf(idEl, 'Specification', 'PartyName', 'OrganisationName', 'NameElement');
    if (!idEl || !name) return undefined;
    const id = convertId('identity', attr(idEl, 'id'), `identity:${name}`);
    this.emit(
      { type: 'identity', spec_version: '2.1', id, created, modified: created, name, identity_class: 'organization' },
      attr(idEl, 'id'),
    );
    return id;
  }

  // -------------------------------------------------------------------------------------------
  // observed data

  observedData(obs: XmlElement): string | undefined {
    const ref = attr(obs, 'idref');
    const target = ref !== undefined && obs.children.length === 0 ? this.byId.get(ref) : obs;
    if (!target) return undefined;
    const id = attr(target, 'id');
    const done = id ? this.converted.get(id)?.find((x) => x.startsWith('observed-data--')) : undefined;
    return done ?? this.mapObservedData(target);
  }

  private mapObservedData(obs: XmlElement): string | undefined {
    const stix1Id = attr(obs, 'id');
    const created = this.timeOf(obs);
    const scos: StixObject[] = [];
    const objects: XmlElement[] = [];
    const comp = child(obs, 'Observable_Composition');
    if (comp) {
      for (const o of childrenNamed(comp, 'Observable')) {
        const ob = child(o, 'Object');
        if (ob) objects.push(ob);
      }
    } else {
      const ob = child(obs, 'Object');
      if (ob) objects.push(ob);
    }
    for (const ob of objects) {
      const facts = this.builder.objectFacts(ob, 0);
      if (!facts) continue;
      for (const s of scosFromFacts(facts)) if (!scos.some((x) => x.id === s.id)) scos.push(s);
      // related objects that do not fold into this one (resolved addresses, e-mail attachments do) are SCOs of their own
      for (const rel of childrenNamed(child(ob, 'Related_Objects'), 'Related_Object')) {
        const rf = this.builder.objectFacts(rel, 1);
        if (!rf || foldsInto(facts.type, rel)) continue;
        for (const s of scosFromFacts(rf)) if (!scos.some((x) => x.id === s.id)) scos.push(s);
      }
    }
    const unmapped = this.builder.unmapped.splice(0);
    this.countUnmapped(unmapped);
    if (scos.length === 0) return undefined;
    // a value that fails the gate rejects the observation (its SCOs reference each other)
    for (const s of scos) {
      const bad = objectValueProblem(s, VALIDITY_POLICY);
      if (!bad) continue;
      const loc = {
        source: this.ctx.sourceId,
        ...(this.ctx.file ? { file: this.ctx.file } : {}),
        line: obs.line,
        ...(stix1Id ? { objectId: stix1Id } : {}),
      };
      this.rejections.push({ reason: bad.reason, message: `observable ${bad.message}`, location: loc });
      return undefined;
    }
    for (const s of scos) this.emit(s);
    const od: StixObject = {
      type: 'observed-data',
      spec_version: '2.1',
      id: convertId('observed-data', stix1Id, `observed-data:${scos.map((s) => s.id).join(',')}`),
      created,
      modified: created,
      first_observed: created,
      last_observed: created,
      number_observed: 1,
      object_refs: scos.map((s) => s.id),
    };
    if (unmapped.length) od.x_stix1_unmapped = unmapped;
    this.emit(od, stix1Id);
    this.stats.observables += scos.length;
    return od.id;
  }

  // -------------------------------------------------------------------------------------------

  private resolveRelationships(): void {
    const resolve = (ref: string): string[] => {
      // a STIX 2 id is kept; anything else must be a converted STIX 1.x id (`bundle--x` is neither)
      if (isStixId(ref)) return [ref];
      const c = this.converted.get(ref);
      if (!c) {
        this.stats.unresolvedIdrefs++;
        return [];
      }
      return c;
    };
    for (const r of this.rels) {
      for (const s of resolve(r.source)) {
        for (const t of resolve(r.target)) {
          if (s === t) continue;
          // a TTP that is only victim targeting became an identity: what used or indicated it targets it
          const victim = t.startsWith('identity--') || t.startsWith('location--');
          const type =
            victim && r.type === 'uses' ? 'targets' : victim && r.type === 'indicates' ? 'related-to' : r.type;
          this.emit({
            type: 'relationship',
            spec_version: '2.1',
            id: deterministicId('relationship', `${s}|${type}|${t}`),
            created: r.created,
            modified: r.created,
            relationship_type: type,
            source_ref: s,
            target_ref: t,
          });
        }
      }
    }
  }
}

function addMarkings(o: StixObject, refs: readonly string[]): void {
  if (isSco(o.type) || o.type === 'marking-definition') return;
  const cur = o.object_marking_refs ?? [];
  const next = [...new Set([...cur, ...refs])];
  o.object_marking_refs = next;
}

/** Maps one parsed STIX 1.x package. */
/**
 * Maps one package. A package whose references fan out past its work budget is rejected as a
 * whole (reason `too_complex`): nothing of it is emitted.
 */
export function mapStix1Package(root: XmlElement, ctx: Stix1MapContext): Stix1MapResult {
  const m = new Stix1Mapper(root, ctx);
  try {
    return m.map();
  } catch (e) {
    if (!(e instanceof StixgateError) || e.reason !== 'too_complex') throw e;
    return {
      objects: [],
      rejections: [{ reason: e.reason, message: e.message, location: e.location }],
      stats: m.stats,
      seenAt: new Map(),
    };
  }
}
