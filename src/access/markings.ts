import {
  TLP_MARKING_BY_LEVEL,
  TLP_MARKING_IDS,
  parseTlp,
  tlpRank,
  type StixObject,
  type TlpLevel,
} from '../core/stix.js';

/**
 * Reading markings. A marking ref is one of:
 *  - a TLP marking (TLP 1.0 and 2.0 ids, or a marking-definition whose `definition_type` is `tlp`,
 *    or one carrying the TLP 2.0 / AIS extension with a TLP);
 *  - another marking stixgate can read but that says nothing about TLP (a `statement` such as the
 *    ATT&CK copyright, an AIS marking without a TLP, an ISA marking): kept on the object, shown,
 *    never turned into a TLP;
 *  - unreadable: a ref whose definition is not known or cannot be parsed. It fails closed: the
 *    contribution is red, and the runner counts and logs it.
 */

/** The OASIS TLP 2.0 marking-definition extension (its `name` is `TLP:AMBER` etc.). */
export const TLP2_EXTENSION_ID = 'extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d';
/** CISA's ISA marking extension (ACS 3.0 fields), as stix2-elevator writes it. Carries no TLP. */
export const ISA_EXTENSION_ID = 'extension-definition--3a65884d-005a-4290-8335-cb2d778a83ce';
/** stixgate's AIS marking extension: consent, proprietary flags and the AIS TLP, kept as data. */
export const AIS_EXTENSION_ID = 'extension-definition--fc4c4a3e-9484-5d9b-9a51-7bc4f1cb674a';
/** stixgate's marking for a source marking it could not read (STIX 1.x structures of unknown type). */
export const UNREADABLE_EXTENSION_ID = 'extension-definition--7569c81e-b10e-53eb-b718-4f51266bf705';
/** The ATT&CK copyright statement, known here so that ATT&CK objects never fail closed. */
export const ATTACK_STATEMENT_ID = 'marking-definition--fa42a846-8d90-4e51-bc29-71d5b4802168';

/** Extensions that are readable markings saying nothing about TLP unless they carry a `tlp`. */
const NON_TLP_EXTENSIONS = new Set([ISA_EXTENSION_ID, AIS_EXTENSION_ID]);

export type MarkingKind = { kind: 'tlp'; tlp: TlpLevel } | { kind: 'other' } | { kind: 'unreadable'; reason: string };

/**
 * What a marking-definition object says: a TLP (TLP 1.0/2.0 ids, `definition_type: tlp`, the TLP
 * 2.0 extension, an extension carrying a `tlp`), another readable marking (a `statement`, ISA and
 * AIS markings without a TLP), or unreadable (anything else: an unknown definition type or
 * extension, a TLP that does not parse).
 */
export function classifyDefinition(def: StixObject): MarkingKind {
  const known = TLP_MARKING_IDS[def.id];
  if (known) return { kind: 'tlp', tlp: known };
  const definition = def.definition as Record<string, unknown> | undefined;
  if (def.definition_type === 'tlp') {
    const t = definition && typeof definition.tlp === 'string' ? parseTlp(definition.tlp) : undefined;
    return t ? { kind: 'tlp', tlp: t } : { kind: 'unreadable', reason: 'tlp marking without a readable level' };
  }
  let tlp: TlpLevel | undefined;
  let readable = def.definition_type === 'statement';
  const ext = def.extensions;
  if (ext && typeof ext === 'object') {
    for (const [id, value] of Object.entries(ext)) {
      if (!value || typeof value !== 'object')
        return { kind: 'unreadable', reason: `extension ${id.slice(0, 80)} is not an object` };
      const v = value as Record<string, unknown>;
      let t: TlpLevel | undefined;
      if (id === TLP2_EXTENSION_ID) {
        t =
          typeof v.tlp_2_0 === 'string'
            ? parseTlp(v.tlp_2_0)
            : typeof def.name === 'string'
              ? parseTlp(def.name)
              : undefined;
        if (!t) return { kind: 'unreadable', reason: 'TLP 2.0 marking without a readable name' };
      } else if (typeof v.tlp === 'string') {
        t = parseTlp(v.tlp);
        if (!t) return { kind: 'unreadable', reason: `unknown TLP ${JSON.stringify(v.tlp.slice(0, 40))}` };
      } else if (id === UNREADABLE_EXTENSION_ID) {
        return {
          kind: 'unreadable',
          reason: typeof v.reason === 'string' ? v.reason.slice(0, 200) : 'marking not readable at the source',
        };
      } else if (!NON_TLP_EXTENSIONS.has(id)) {
        return { kind: 'unreadable', reason: `unknown marking extension ${id.slice(0, 80)}` };
      }
      readable = true;
      if (t && (tlp === undefined || tlpRank(t) > tlpRank(tlp))) tlp = t;
    }
  }
  if (tlp) return { kind: 'tlp', tlp };
  if (readable) return { kind: 'other' };
  return {
    kind: 'unreadable',
    reason:
      typeof def.definition_type === 'string'
        ? `unknown definition_type ${JSON.stringify(def.definition_type.slice(0, 40))}`
        : 'marking-definition without a definition',
  };
}

const TLP2_NAMES: Record<TlpLevel, string> = {
  clear: 'TLP:CLEAR',
  green: 'TLP:GREEN',
  amber: 'TLP:AMBER',
  'amber+strict': 'TLP:AMBER+STRICT',
  red: 'TLP:RED',
};

/**
 * The TLP 2.0 marking-definition of a level, as the OASIS TLP 2.0 extension publishes it. STIX 2.1
 * predefines only the TLP 1.0 ones, so a bundle that references a TLP 2.0 id carries this object.
 */
export function tlpMarkingDefinition(level: TlpLevel): StixObject {
  return {
    type: 'marking-definition',
    spec_version: '2.1',
    id: TLP_MARKING_BY_LEVEL[level],
    created: '2022-10-01T00:00:00.000Z',
    name: TLP2_NAMES[level],
    extensions: { [TLP2_EXTENSION_ID]: { extension_type: 'property-extension', tlp_2_0: level } },
  };
}

/** Marking definitions known to a reader of markings (the page's own, the store's, well-known). */
export type MarkingDefinitions = ReadonlyMap<string, MarkingKind>;

export interface MarkingReading {
  /** The strictest TLP the markings state, if any. */
  tlp?: TlpLevel;
  /** Refs that cannot be read (each one makes the contribution red). */
  unreadable: { ref: string; reason: string }[];
}

const WELL_KNOWN: MarkingDefinitions = new Map([[ATTACK_STATEMENT_ID, { kind: 'other' }]]);

/** The refs of an object's `object_marking_refs` and granular markings (the strictest counts). */
export function markingRefsOf(obj: StixObject): string[] {
  const out: string[] = [];
  if (Array.isArray(obj.object_marking_refs)) for (const r of obj.object_marking_refs) out.push(r);
  if (Array.isArray(obj.granular_markings)) {
    for (const g of obj.granular_markings) {
      const ref = g && typeof g === 'object' ? (g as { marking_ref?: unknown }).marking_ref : undefined;
      if (ref !== undefined) out.push(ref as string);
    }
  }
  return out;
}

/** Reads an object's markings against the known definitions. */
export function readMarkings(obj: StixObject, defs: MarkingDefinitions = new Map()): MarkingReading {
  const reading: MarkingReading = { unreadable: [] };
  for (const ref of markingRefsOf(obj)) {
    if (typeof ref !== 'string') {
      reading.unreadable.push({ ref: String(ref).slice(0, 80), reason: 'marking ref is not a string' });
      continue;
    }
    const k: MarkingKind | undefined = TLP_MARKING_IDS[ref]
      ? { kind: 'tlp', tlp: TLP_MARKING_IDS[ref] }
      : (defs.get(ref) ?? WELL_KNOWN.get(ref));
    if (!k) reading.unreadable.push({ ref, reason: 'unknown marking-definition' });
    else if (k.kind === 'unreadable') reading.unreadable.push({ ref, reason: k.reason });
    else if (k.kind === 'tlp' && (reading.tlp === undefined || tlpRank(k.tlp) > tlpRank(reading.tlp)))
      reading.tlp = k.tlp;
  }
  return reading;
}

/**
 * The TLP of one contribution at ingest: red when a marking cannot be read, else the markings'
 * TLP, else the source's `tlp`, else the configured default.
 */
export function contributionTlpAtIngest(
  reading: MarkingReading,
  sourceTlp: TlpLevel | undefined,
  defaultTlp: TlpLevel,
): TlpLevel {
  if (reading.unreadable.length > 0) return 'red';
  return reading.tlp ?? sourceTlp ?? defaultTlp;
}
