import type { Location } from '../../src/core/errors.js';
import type { ObservableType } from '../../src/core/stix.js';
import { excerpt } from '../../src/core/safe-json.js';
import { mapValue, type MapContext, type ValueResult } from '../../src/formats/list-values.js';
import type { ColRef, ResolvedMap } from './column-map.js';
import { parseFeedTime } from './time.js';

/** Column references bound to positions (CSV) or keys (NDJSON). */
export interface Binding {
  value: ColRef;
  type: ObservableType | 'auto';
  typeColumn?: ColRef;
  typeMap?: Record<string, string>;
  firstSeen?: ColRef;
  lastSeen?: ColRef;
  confidence?: ColRef;
  labels: ColRef[];
  labelPrefix: string;
  port?: ColRef;
  malware?: ColRef;
  description?: ColRef;
}

/**
 * Binds a map's column references to a header (names → indexes). Returns the names missing from
 * the header, if any. NDJSON keeps keys; index references pass through.
 */
export function bindColumns(
  map: ResolvedMap,
  header: readonly string[] | undefined,
): { binding: Binding; missing: string[] } {
  const missing: string[] = [];
  const lookup = new Map<string, number>();
  header?.forEach((h, i) => {
    const k = h.trim().toLowerCase();
    if (!lookup.has(k)) lookup.set(k, i);
  });
  const bind = (ref: unknown): ColRef | undefined => {
    if (ref === undefined) return undefined;
    if (typeof ref === 'number' || map.format === 'ndjson') return ref as ColRef;
    const i = lookup.get(String(ref).trim().toLowerCase());
    if (i === undefined) {
      missing.push(String(ref));
      return undefined;
    }
    return i;
  };
  const c = map.columns;
  const binding: Binding = {
    value: bind(c.value) ?? -1,
    type: c.type as ObservableType | 'auto',
    typeColumn: bind(c.type_column),
    typeMap: c.type_map as Record<string, string> | undefined,
    firstSeen: bind(c.first_seen),
    lastSeen: bind(c.last_seen),
    confidence: bind(c.confidence),
    labels: (c.labels ?? []).map(bind).filter((x): x is ColRef => x !== undefined),
    labelPrefix: c.label_prefix ?? '',
    port: bind(c.port),
    malware: bind(c.malware),
    description: bind(c.description),
  };
  return { binding, missing };
}

/** Reads a column of a row; undefined when absent or blank. */
export type Getter = (ref: ColRef | undefined) => string | undefined;

export function csvGetter(fields: readonly string[]): Getter {
  return (ref) => {
    if (ref === undefined) return undefined;
    const v = fields[ref as number];
    if (v === undefined) return undefined;
    const t = v.trim();
    return t === '' ? undefined : t;
  };
}

export function jsonGetter(obj: Record<string, unknown>): Getter {
  return (ref) => {
    if (ref === undefined || !Object.hasOwn(obj, ref)) return undefined;
    const v = obj[ref as string];
    if (v === null || v === undefined) return undefined;
    if (Array.isArray(v)) return v.filter((x) => typeof x === 'string' || typeof x === 'number').join(',') || undefined;
    if (typeof v === 'object') return undefined;
    const t = String(v).trim();
    return t === '' ? undefined : t;
  };
}

/**
 * One row → one indicator (or a rejection). Pure: the run time and defaults come from `ctx`.
 * Values are passed to the normaliser verbatim (a formula such as `=cmd|…` is rejected there,
 * and the message quotes it escaped).
 */
export function mapRow(get: Getter, b: Binding, ctx: MapContext, location: Location): ValueResult {
  const value = get(b.value);
  if (value === undefined)
    return { ok: false, rejection: { reason: 'empty', message: 'the value column is empty', location } };
  let type: ObservableType | 'auto' = b.type;
  if (b.typeColumn !== undefined) {
    const t = get(b.typeColumn);
    const mapped = t !== undefined ? (b.typeMap?.[t] ?? b.typeMap?.[t.toLowerCase()]) : undefined;
    if (!mapped) {
      return {
        ok: false,
        rejection: {
          reason: 'unknown_type',
          message: `type ${t === undefined ? '(empty)' : excerpt(t, 40)} is not in type_map`,
          location,
        },
      };
    }
    type = mapped as ObservableType | 'auto';
  }
  const labels: string[] = [];
  for (const ref of b.labels) {
    const v = get(ref);
    if (v === undefined) continue;
    for (const part of v.split(',')) {
      const l = part.trim();
      if (l) labels.push(`${b.labelPrefix}${l}`.slice(0, 256));
    }
  }
  const malware = get(b.malware);
  if (malware) labels.push(`malware:${malware}`.slice(0, 256));
  let confidence: number | undefined;
  const c = get(b.confidence);
  if (c !== undefined) {
    const n = Number(c);
    if (!Number.isFinite(n) || n < 0 || n > 100) {
      return {
        ok: false,
        rejection: {
          reason: 'bad_confidence',
          message: `confidence ${excerpt(c, 20)} is not a number from 0 to 100`,
          location,
        },
      };
    }
    confidence = Math.round(n);
  }
  let description = get(b.description);
  const port = get(b.port);
  if (port !== undefined) {
    const p = Number(port);
    if (Number.isInteger(p) && p > 0 && p < 65536)
      description = description ? `${description} (port ${p})` : `port ${p}`;
  }
  const firstSeen = parseFeedTime(get(b.firstSeen));
  const lastSeen = parseFeedTime(get(b.lastSeen));
  return mapValue(value, type, ctx, { labels, confidence, description, firstSeen, lastSeen }, location);
}
