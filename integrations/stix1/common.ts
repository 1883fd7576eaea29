/**
 * Shared pieces of the STIX 1.x mapping: the mapping context, id conversion, timestamps,
 * vocabularies (mappings/stix1/vocab.yaml) and markings.
 */
import { group } from '../../src/core/indexed.js';
import { join } from 'node:path';
import { deterministicId } from '../../src/core/ids.js';
import { s } from '../../src/core/schema.js';
import { loadYamlTable, TABLE_KEY } from '../../src/core/yaml-document.js';
import { attr, child, childrenNamed, textOf, type XmlElement } from '../../src/core/safe-xml.js';

export interface Stix1Tables {
  indicator_types: Record<string, string>;
  malware_types: Record<string, string>;
  report_types: Record<string, string>;
  confidence: Record<string, number>;
  kill_chains: Record<string, string>;
  tlp: Record<string, string>;
}

const vocabulary = s.record(s.string({ maxLength: 200 }), { default: {}, keyPattern: TABLE_KEY });

/** `mappings/stix1/vocab.yaml`: STIX 1.x vocabulary values → STIX 2.1 values, confidences and TLP markings. */
export const stix1VocabSchema = s.object({
  indicator_types: vocabulary,
  malware_types: vocabulary,
  report_types: vocabulary,
  confidence: s.record(s.int({ min: 0, max: 100 }), { default: {}, keyPattern: TABLE_KEY }),
  kill_chains: vocabulary,
  tlp: s.record(s.string({ pattern: /^marking-definition--[0-9a-f-]{36}$/, patternHint: 'a marking-definition id' }), {
    default: {},
    keyPattern: TABLE_KEY,
  }),
});

/** Loads mappings/stix1/vocab.yaml. */
export function loadStix1Tables(mappingsDir: string): Stix1Tables {
  const t = loadYamlTable(join(mappingsDir, 'stix1', 'vocab.yaml'), stix1VocabSchema, {
    what: 'STIX 1.x vocabulary table',
  });
  // lookups by vendor text: no prototype behind the tables
  const table = <V>(v: Record<string, V>): Record<string, V> =>
    Object.assign(Object.create(null) as Record<string, V>, v);
  return {
    indicator_types: table(t.indicator_types),
    malware_types: table(t.malware_types),
    report_types: table(t.report_types),
    confidence: table(t.confidence),
    kill_chains: table(t.kill_chains),
    tlp: table(t.tlp),
  };
}

/** What the pure mapper is handed. */
export interface Stix1MapContext {
  /** The source id, for messages. */
  sourceId: string;
  /** The document's name (file path or URL), for messages. */
  file?: string;
  /**
   * Time used when the package carries none (RFC 3339). Sources pass the document's stable time
   * (file mtime or HTTP Last-Modified) so that re-ingesting the same file gives identical objects.
   */
  fallbackTime: string;
  tables: Stix1Tables;
}

/** An RFC 4122 UUID (versions 1-5, RFC variant) at the end of a STIX 1.x id; STIX 2.1 requires both. */
const UUID_TAIL = /([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[1-5][0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12})$/;

/**
 * A STIX 2.1 id for a STIX 1.x id: `example:indicator-<uuid>` keeps its UUID with the 2.1 type
 * (as stix2-elevator does) when it is a valid RFC 4122 UUID; anything else (including UUID-shaped
 * values with a wrong version or variant, which STIX 2.1 rejects) gets a deterministic UUIDv5.
 */
export function convertId(type: string, stix1Id: string | undefined, fallbackKey: string): string {
  if (stix1Id) {
    const m = UUID_TAIL.exec(stix1Id);
    if (m) return `${type}--${group(m, 1).toLowerCase()}`;
    return deterministicId(type, `stix1:${stix1Id}`);
  }
  return deterministicId(type, `stix1:${fallbackKey}`);
}

/** A STIX 1.x timestamp → RFC 3339 UTC with millisecond precision; undefined when unparseable. */
export function stixTimestamp(v: string | undefined): string | undefined {
  if (!v) return undefined;
  const t = v.trim();
  if (!/^\d{4}-\d\d-\d\d/.test(t)) return undefined;
  // Date-only values and values without a zone are taken as UTC.
  const withZone = /T.*([zZ]|[+-]\d\d:?\d\d)$/.test(t) ? t : /T/.test(t) ? `${t}Z` : `${t}T00:00:00Z`;
  // Trim fractional seconds beyond milliseconds (Date.parse accepts them, but be explicit).
  const ms = Date.parse(withZone.replace(/(\.\d{3})\d+/, '$1'));
  if (Number.isNaN(ms)) return undefined;
  return new Date(ms).toISOString();
}

/** Vocabulary value → 2.1 value: the table, else lower-case with spaces as hyphens. */
export function vocab(table: Record<string, string>, v: string | undefined): string | undefined {
  if (!v) return undefined;
  const t = v.trim();
  if (!t) return undefined;
  return table[t] ?? t.toLowerCase().replace(/\s+-\s+|\s+/g, '-');
}

/** `Confidence/Value` → 0-100 (High/Medium/Low table, or a number). */
export function confidenceOf(el: XmlElement | undefined, tables: Stix1Tables): number | undefined {
  const v = textOf(el, 'Value');
  if (!v) return undefined;
  const n = tables.confidence[v];
  if (n !== undefined) return n;
  const num = Number(v);
  if (Number.isFinite(num) && num >= 0 && num <= 100) return Math.round(num);
  return undefined;
}

/** `Kill_Chain_Phases/Kill_Chain_Phase` → 2.1 kill_chain_phases. */
export function killChainPhases(
  el: XmlElement | undefined,
  tables: Stix1Tables,
  kcNames: ReadonlyMap<string, string>,
): { kill_chain_name: string; phase_name: string }[] | undefined {
  const out: { kill_chain_name: string; phase_name: string }[] = [];
  for (const p of childrenNamed(el, 'Kill_Chain_Phase')) {
    const phase = attr(p, 'name') ?? kcNames.get(attr(p, 'phase_id') ?? '');
    const kcId = attr(p, 'kill_chain_id') ?? '';
    const kc =
      tables.kill_chains[kcId] ??
      tables.kill_chains[attr(p, 'kill_chain_name') ?? ''] ??
      vocab({}, attr(p, 'kill_chain_name') ?? kcNames.get(kcId));
    if (!phase || !kc) continue;
    out.push({ kill_chain_name: kc, phase_name: phase.trim().toLowerCase().replace(/\s+/g, '-') });
  }
  return out.length ? out : undefined;
}

/** The text of `Title`, else undefined. */
export function titleOf(el: XmlElement): string | undefined {
  return textOf(el, 'Title');
}

/** Description(s) joined by blank lines. */
export function descriptionOf(el: XmlElement): string | undefined {
  const parts = [...childrenNamed(el, 'Description'), ...childrenNamed(el, 'Short_Description')]
    .map((d) => textOf(d))
    .filter((x): x is string => !!x);
  return parts.length ? parts.join('\n\n') : undefined;
}

export { child, childrenNamed, textOf, attr };
