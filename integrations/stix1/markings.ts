/**
 * STIX 1.x data markings (`Handling/Marking/Marking_Structure`) → STIX 2.1 marking refs and the
 * marking-definition objects to emit:
 *  - `tlpMarking:TLPMarkingStructureType`: the TLP 1.0 marking (predefined, not emitted);
 *  - `AIS:AISMarkingStructure`: the TLP it carries, plus a marking-definition keeping the AIS
 *    consent and proprietary flags as data (stixgate's AIS extension);
 *  - ISA markings (`ISAMarkingsType`, `ISAMarkingsAssertionType`): a marking-definition with
 *    CISA's ISA extension, as stix2-elevator writes it (no TLP);
 *  - simple and terms-of-use markings: `statement` marking-definitions;
 *  - anything else (or a TLP colour that does not parse): a marking-definition stixgate reads as
 *    unreadable, so that the contribution fails closed (TLP:RED), is counted and logged at ingest.
 */
import { TLP_MARKING_BY_LEVEL, parseTlp, type StixObject } from '../../src/core/stix.js';
import { AIS_EXTENSION_ID, ISA_EXTENSION_ID, UNREADABLE_EXTENSION_ID } from '../../src/access/markings.js';
import { attr, child, childrenNamed, textOf, xsiType, type XmlElement } from '../../src/core/safe-xml.js';
import { convertId, stixTimestamp, type Stix1MapContext } from './common.js';

export interface MarkingResult {
  refs: string[];
  /** Marking-definition objects to emit (statements, AIS, ISA, unreadable); TLP markings are predefined. */
  objects: StixObject[];
  /** Marking structures stixgate could not read (each one fails its objects closed). */
  unmapped: number;
}

/** Adds a ref and, when `body` is given, the marking-definition it names. */
type Emit = (id: string, body?: Record<string, unknown>) => void;

/** `Handling/Marking/Marking_Structure` → marking refs and marking-definitions. */
export function markingsOf(handling: XmlElement | undefined, ctx: Stix1MapContext, created: string): MarkingResult {
  const out: MarkingResult = { refs: [], objects: [], unmapped: 0 };
  const emit: Emit = (id, body) => {
    out.refs.push(id);
    if (body && !out.objects.some((o) => o.id === id))
      out.objects.push({ type: 'marking-definition', spec_version: '2.1', id, created, ...body });
  };
  const unreadable = (ms: XmlElement, reason: string): void => {
    out.unmapped++;
    const type = (ms.attrs['xsi:type'] ?? xsiType(ms) ?? 'none').slice(0, 200);
    emit(convertId('marking-definition', undefined, `unreadable:${type}:${reason}`), {
      name: `unreadable STIX 1.x marking ${type}`,
      extensions: { [UNREADABLE_EXTENSION_ID]: { extension_type: 'property-extension', stix1_type: type, reason } },
    });
  };
  for (const m of childrenNamed(handling, 'Marking')) {
    for (const ms of childrenNamed(m, 'Marking_Structure')) {
      const t = xsiType(ms) ?? '';
      if (t === 'TLPMarkingStructureType') {
        const color = (attr(ms, 'color') ?? '').toUpperCase();
        const id = ctx.tables.tlp[color];
        if (id) out.refs.push(id);
        else unreadable(ms, `TLP colour ${JSON.stringify(color.slice(0, 40))}`);
      } else if (t === 'SimpleMarkingStructureType' || t === 'TermsOfUseMarkingStructureType') {
        const statement = textOf(ms, 'Statement') ?? textOf(ms, 'Terms_Of_Use');
        if (!statement) continue;
        const id = convertId('marking-definition', attr(ms, 'id'), `statement:${statement}`);
        emit(id, { definition_type: 'statement', definition: { statement } });
      } else if (t === 'AISMarkingStructure') {
        ais(ms, ctx, emit, unreadable);
      } else if (t === 'ISAMarkingsType' || t === 'ISAMarkingsAssertionType') {
        isa(ms, emit);
      } else unreadable(ms, 'unknown marking structure type');
    }
  }
  out.refs = [...new Set(out.refs)];
  return out;
}

/** AIS: `Is_Proprietary` / `Not_Proprietary` with `CISA_Proprietary`, `AISConsent@consent`, `TLPMarking@color`. */
function ais(
  ms: XmlElement,
  ctx: Stix1MapContext,
  emit: Emit,
  unreadable: (ms: XmlElement, reason: string) => void,
): void {
  const prop = child(ms, 'Is_Proprietary');
  const body = prop ?? child(ms, 'Not_Proprietary');
  if (!body) {
    unreadable(ms, 'AIS marking without Is_Proprietary or Not_Proprietary');
    return;
  }
  const consent = attr(child(body, 'AISConsent'), 'consent')?.trim().toLowerCase();
  const color = attr(child(body, 'TLPMarking'), 'color')?.trim();
  const tlp = color !== undefined ? parseTlp(color) : undefined;
  if (color !== undefined && !tlp) {
    unreadable(ms, `AIS TLP colour ${JSON.stringify(color.slice(0, 40))}`);
    return;
  }
  const cisa = attr(body, 'CISA_Proprietary')?.trim().toLowerCase();
  const data: Record<string, unknown> = { extension_type: 'property-extension', is_proprietary: prop !== undefined };
  if (cisa === 'true' || cisa === 'false') data.cisa_proprietary = cisa === 'true';
  if (consent) data.consent = consent;
  if (tlp) data.tlp = tlp;
  const summary = `AIS: consent ${consent ?? 'unspecified'}, ${prop ? 'proprietary' : 'not proprietary'}${cisa ? `, CISA proprietary ${cisa}` : ''}${tlp ? `, TLP:${tlp.toUpperCase()}` : ''}`;
  emit(convertId('marking-definition', undefined, `ais:${JSON.stringify(data)}`), {
    name: summary,
    extensions: { [AIS_EXTENSION_ID]: data },
  });
  // the TLP 1.0 marking as well, so that every STIX consumer reads the TLP
  if (tlp) emit(ctx.tables.tlp[tlp === 'clear' ? 'WHITE' : tlp.toUpperCase()] ?? TLP_MARKING_BY_LEVEL[tlp]);
}

/** ISA markings and assertions → CISA's ISA extension fields (a subset, as stix2-elevator names them). */
function isa(ms: XmlElement, emit: Emit): void {
  const data: Record<string, unknown> = { extension_type: 'property-extension' };
  const text = (local: string) => textOf(ms, local);
  const identifier = text('Identifier');
  if (identifier) data.identifier = identifier;
  const createdAt = stixTimestamp(text('CreateDateTime'));
  if (createdAt) data.create_date_time = createdAt;
  const entity = text('ResponsibleEntity');
  if (entity) {
    for (const part of entity.split(/\s+/)) {
      const [k, v] = part.split(':');
      if (k === 'CUST' && v) data.responsible_entity_custodian = v;
      if (k === 'ORIG' && v) data.responsible_entity_originator = v;
    }
  }
  const policy = text('PolicyRef');
  if (policy) data.policy_reference = policy;
  const auth = childrenNamed(ms, 'AuthRef')
    .map((a) => a.text.trim())
    .filter(Boolean);
  if (auth.length) data.authority_reference = auth;
  const controls = text('ControlSet');
  if (controls) {
    const cs: Record<string, unknown> = {};
    const fd: string[] = [];
    for (const part of controls.split(/\s+/)) {
      const [k, v] = part.split(':');
      if (k === 'CLS' && v) cs.classification = v;
      else if (k === 'FD' && v) fd.push(v);
    }
    if (fd.length) cs.formal_determination = fd;
    data.control_set = cs;
  }
  const seed = `isa:${JSON.stringify(data)}`;
  emit(convertId('marking-definition', undefined, seed), { extensions: { [ISA_EXTENSION_ID]: data } });
}
