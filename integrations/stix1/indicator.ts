import { errorMessage } from '../../src/core/errors.js';
/**
 * STIX 1.x indicators → STIX 2.1 indicators: observables and composite indicator expressions to
 * patterns (idrefs resolved in the package), Snort/YARA test mechanisms, properties, the
 * relationships an indicator names, and sightings.
 */
import type { Rejection } from '../../src/core/errors.js';
import { canonicalPattern } from '../../src/core/pattern.js';
import { patternProblem, VALIDITY_POLICY } from '../../src/core/value-gate.js';
import { deterministicId } from '../../src/core/ids.js';
import type { StixObject } from '../../src/core/stix.js';
import { attr, child, childrenNamed, textOf, xsiType, type XmlElement } from '../../src/core/safe-xml.js';
import {
  confidenceOf,
  convertId,
  descriptionOf,
  killChainPhases,
  stixTimestamp,
  vocab,
  type Stix1MapContext,
} from './common.js';
import { obsText, type ObsNode, type PatternBuilder, type Unmapped } from './pattern.js';

const MAX_COMPOSITE_DEPTH = 32;

/** What indicator mapping needs from the package mapper. */
export interface IndicatorHost {
  readonly ctx: Stix1MapContext;
  readonly byId: ReadonlyMap<string, XmlElement>;
  readonly kcNames: ReadonlyMap<string, string>;
  readonly builder: PatternBuilder;
  readonly rejections: Rejection[];
  readonly stats: { indicators: number; patterns: number; unresolvedIdrefs: number };
  readonly producedTime: string | undefined;
  readonly seenAt: Map<string, string>;
  timeOf(el: XmlElement): string;
  emit(o: StixObject, stix1Id?: string): void;
  relate(source: string, type: string, target: string, created: string): void;
  refs(el: XmlElement | undefined, wrapper: string, local: string): string[];
  countUnmapped(list: readonly Unmapped[]): void;
}

function indicatorPattern(h: IndicatorHost, el: XmlElement, depth: number, seen: Set<XmlElement>): ObsNode | undefined {
  // every composite step spends from the package's budget: indicators that each walk a long
  // chain of composite idrefs would otherwise cost quadratic work
  h.builder.budget.spend();
  if (depth > MAX_COMPOSITE_DEPTH || seen.has(el)) return undefined;
  seen.add(el);
  const obs = child(el, 'Observable');
  if (obs) return h.builder.observable(obs);
  const comp = child(el, 'Composite_Indicator_Expression');
  if (!comp) return undefined;
  const op = (attr(comp, 'operator') ?? 'AND').toUpperCase() === 'OR' ? 'OR' : 'AND';
  const items: ObsNode[] = [];
  for (const ref of childrenNamed(comp, 'Indicator')) {
    const idref = attr(ref, 'idref');
    const target = ref.children.length === 0 && idref ? h.byId.get(idref) : ref;
    if (!target) {
      h.stats.unresolvedIdrefs++;
      continue;
    }
    const n = indicatorPattern(h, target, depth + 1, seen);
    if (n) items.push(n);
  }
  if (items.length === 0) return undefined;
  return items.length === 1 ? items[0] : { kind: op, items };
}

function testMechanism(el: XmlElement): { pattern: string; pattern_type: string } | undefined {
  for (const tm of childrenNamed(child(el, 'Test_Mechanisms'), 'Test_Mechanism')) {
    const t = xsiType(tm) ?? '';
    const rule = childrenNamed(tm, 'Rule')
      .map((r) => r.text.trim())
      .filter(Boolean);
    if (t.startsWith('Snort') && rule.length) return { pattern: rule.join('\n'), pattern_type: 'snort' };
    if (t.startsWith('Yara') && rule.length) return { pattern: rule.join('\n'), pattern_type: 'yara' };
  }
  return undefined;
}

/** One STIX 1.x Indicator → an indicator (or a rejection), its relationships and sightings. */
export function mapIndicator(h: IndicatorHost, el: XmlElement): void {
  const stix1Id = attr(el, 'id');
  const id = convertId('indicator', stix1Id, `indicator:${h.ctx.file ?? ''}:${el.line}`);
  const created = h.timeOf(el);
  const loc = { source: h.ctx.sourceId, ...(h.ctx.file ? { file: h.ctx.file } : {}), line: el.line, objectId: stix1Id };
  h.builder.unmapped.splice(0);
  const node = indicatorPattern(h, el, 0, new Set());
  let pattern: string | undefined;
  let patternType = 'stix';
  if (node) {
    const text = obsText(node);
    try {
      canonicalPattern(text);
      pattern = text;
    } catch (e) {
      h.rejections.push({
        reason: 'pattern_invalid',
        message: `indicator pattern does not parse: ${errorMessage(e)}`,
        location: loc,
      });
      return;
    }
    const bad = patternProblem(text, VALIDITY_POLICY);
    if (bad) {
      h.rejections.push({ reason: bad.reason, message: `indicator ${bad.message}`, location: loc });
      return;
    }
  } else {
    const tm = testMechanism(el);
    if (tm) {
      pattern = tm.pattern;
      patternType = tm.pattern_type;
    }
  }
  if (pattern === undefined) {
    const unmapped = h.builder.unmapped.splice(0);
    h.countUnmapped(unmapped);
    const what = unmapped.length ? ` (unmapped: ${[...new Set(unmapped.map((u) => u.cybox_type))].join(', ')})` : '';
    h.rejections.push({
      reason: 'no_pattern',
      message: `indicator has no observable, composite expression or test mechanism that maps to a STIX 2.1 pattern${what}`,
      location: loc,
    });
    return;
  }
  const o: StixObject = { type: 'indicator', spec_version: '2.1', id, created, modified: created };
  const name = textOf(el, 'Title');
  if (name) o.name = name;
  const description = descriptionOf(el);
  if (description) o.description = description;
  const types = childrenNamed(el, 'Type')
    .map((t) => vocab(h.ctx.tables.indicator_types, textOf(t)))
    .filter((x): x is string => !!x);
  if (types.length) o.indicator_types = [...new Set(types)];
  o.pattern = pattern;
  o.pattern_type = patternType;
  if (patternType === 'stix') o.pattern_version = '2.1';
  const vt = child(el, 'Valid_Time_Position');
  o.valid_from = stixTimestamp(textOf(vt, 'Start_Time')) ?? created;
  const until = stixTimestamp(textOf(vt, 'End_Time'));
  if (until && until > (o.valid_from as string)) o.valid_until = until;
  const kc = killChainPhases(child(el, 'Kill_Chain_Phases'), h.ctx.tables, h.kcNames);
  if (kc) o.kill_chain_phases = kc;
  const conf = confidenceOf(child(el, 'Confidence'), h.ctx.tables);
  if (conf !== undefined) o.confidence = conf;
  const unmapped = h.builder.unmapped.splice(0);
  if (unmapped.length) {
    o.x_stix1_unmapped = unmapped;
    h.countUnmapped(unmapped);
  }
  h.emit(o, stix1Id);
  const seen = latestSighting(el) ?? stixTimestamp(attr(el, 'timestamp')) ?? h.producedTime;
  if (seen) h.seenAt.set(id, seen);
  h.stats.indicators++;
  if (patternType === 'stix') h.stats.patterns++;

  for (const t of h.refs(el, 'Indicated_TTP', 'TTP')) h.relate(id, 'indicates', t, created);
  for (const c of h.refs(child(el, 'Suggested_COAs'), 'Suggested_COA', 'Course_Of_Action'))
    h.relate(c, 'investigates', id, created);
  for (const c of h.refs(child(el, 'Related_Campaigns'), 'Related_Campaign', 'Campaign'))
    h.relate(id, 'indicates', c, created);
  for (const r of h.refs(child(el, 'Related_Indicators'), 'Related_Indicator', 'Indicator'))
    h.relate(id, 'related-to', r, created);
  sightings(h, el, id, created);
}

/** The latest `Sighting/@timestamp` of an indicator. */
function latestSighting(el: XmlElement): string | undefined {
  const times = childrenNamed(child(el, 'Sightings'), 'Sighting')
    .map((x) => stixTimestamp(attr(x, 'timestamp')))
    .filter((x): x is string => !!x)
    .sort();
  return times[times.length - 1];
}

function sightings(h: IndicatorHost, el: XmlElement, indicatorId: string, created: string): void {
  const s = child(el, 'Sightings');
  if (!s) return;
  const count = Number(attr(s, 'sightings_count'));
  const list = childrenNamed(s, 'Sighting');
  const total = Number.isInteger(count) && count > 0 ? count : list.length;
  if (total <= 0) return;
  const first = list
    .map((x) => stixTimestamp(attr(x, 'timestamp')))
    .filter((x): x is string => !!x)
    .sort();
  const o: StixObject = {
    type: 'sighting',
    spec_version: '2.1',
    id: deterministicId('sighting', `stix1-sighting:${indicatorId}`),
    created,
    modified: created,
    sighting_of_ref: indicatorId,
    count: Math.min(total, 999_999_999),
  };
  if (first.length) {
    o.first_seen = first[0];
    o.last_seen = first[first.length - 1];
  }
  h.emit(o);
}
