import type { Rejection } from '../core/errors.js';
import { detectObservable, normaliseObservable } from '../core/observable.js';
import { indicatorFromObservable } from '../core/indicator.js';
import type { ObservableType } from '../core/stix.js';
import { OBSERVABLE_TYPES, stixTime } from '../core/stix.js';
import type { CommonSourceConfig, MappedItem, SourceRunContext } from '../pipeline/types.js';
import { first } from '../core/indexed.js';

/** The `type` values a list or column may declare: an observable type, or `auto` to detect each value. */
export const LIST_VALUE_TYPES = ['auto', ...OBSERVABLE_TYPES] as const;

/** What a pure mapper is handed: the run's time, the source id and the source defaults. */
export interface MapContext {
  /** RFC 3339 time of the run (from the injected clock). */
  now: string;
  sourceId: string;
  defaults: { labels: readonly string[]; confidence?: number; validDays?: number };
}

export interface ValueExtras {
  labels?: readonly string[];
  confidence?: number;
  description?: string;
  /** When the source first saw the value (RFC 3339): becomes valid_from, and the item's seenAt when there is no lastSeen. */
  firstSeen?: string;
  /** When the source last saw the value (RFC 3339): the base of valid_until and the item's seenAt. */
  lastSeen?: string;
}

export type ValueResult = { ok: true; item: MappedItem } | { ok: false; rejection: Rejection };

const IPV4_PORT = /^(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}):(\d{1,5})$/;

/** Drops a `:port` suffix from an IPv4 address (`1.2.3.4:8080`). */
export function stripPort(raw: string): string {
  const m = IPV4_PORT.exec(raw);
  return m?.[1] ?? raw;
}

function addDays(iso: string, days: number): string {
  return new Date(Date.parse(iso) + Math.round(days * 86400_000)).toISOString();
}

/**
 * One raw value → one indicator, or a rejection with the normaliser's reason. Pure: time comes
 * from `ctx.now`, ids from the canonical pattern.
 */
export function mapValue(
  raw: string,
  type: ObservableType | 'auto',
  ctx: MapContext,
  extras: ValueExtras = {},
  location?: Rejection['location'],
): ValueResult {
  const value = type === 'auto' || type === 'ipv4-addr' ? stripPort(raw) : raw;
  const r = type === 'auto' ? detectObservable(value) : normaliseObservable(type, value);
  if (!r.ok) return { ok: false, rejection: { reason: r.reason, message: r.message, location } };
  const labels = extras.labels?.length ? [...new Set([...ctx.defaults.labels, ...extras.labels])] : ctx.defaults.labels;
  const confidence = extras.confidence ?? ctx.defaults.confidence;
  const base = extras.lastSeen ?? ctx.now;
  const indicator = indicatorFromObservable(r.observable, {
    now: ctx.now,
    validFrom: extras.firstSeen,
    validUntil:
      ctx.defaults.validDays !== undefined ? addDays(later(base, ctx.now), ctx.defaults.validDays) : undefined,
    description: extras.description,
    labels: labels.length ? [...labels] : undefined,
    confidence,
  });
  const item: MappedItem = { object: indicator };
  if (confidence !== undefined) item.confidence = confidence;
  // the time model (docs/scoring.md §2.1): a row's latest date; undated rows are seen at the poll
  const seenAt = extras.lastSeen ?? extras.firstSeen;
  if (seenAt) item.seenAt = seenAt;
  return { ok: true, item };
}

export interface TextLineOptions {
  valueType: ObservableType | 'auto';
  commentPrefixes: readonly string[];
  fieldSeparator?: string;
  countField?: number;
  minCount?: number;
  /** Sorted descending by threshold. */
  countConfidence?: readonly (readonly [number, number])[];
}

export type LineResult = { kind: 'skip' } | { kind: 'filtered' } | ValueResult;

/** Splits whitespace-separated fields without a regex allocation per call. */
function fields(text: string): string[] {
  return text.split(/[ \t]+/).filter((f) => f.length > 0);
}

/**
 * One line of a text list → a value. Comments, blank lines: `skip`. Inline trailing text after
 * the first token (`1.2.3.0/24 ; SBL123`, `IP<TAB>count`) is ignored, except the count field.
 */
export function mapTextLine(text: string, line: number, o: TextLineOptions, ctx: MapContext): LineResult {
  const t = text.trim();
  if (t.length === 0) return { kind: 'skip' };
  for (const p of o.commentPrefixes) if (t.startsWith(p)) return { kind: 'skip' };
  const location = { source: ctx.sourceId, line };
  let value: string;
  let parts: string[] | undefined;
  if (o.fieldSeparator !== undefined)
    value = first(t.split(o.fieldSeparator, 1)).trim(); // split with a limit of 1 returns one part
  else {
    const ws = t.search(/[ \t]/);
    value = ws === -1 ? t : t.slice(0, ws);
  }
  let confidence: number | undefined;
  if (o.countField !== undefined) {
    parts = fields(t);
    const n = Number(parts[o.countField]);
    if (!Number.isInteger(n) || n < 0) {
      return {
        ok: false,
        rejection: {
          reason: 'bad_count',
          message: `count field ${o.countField} is not a non-negative integer`,
          location,
        },
      };
    }
    if (o.minCount !== undefined && n < o.minCount) return { kind: 'filtered' };
    if (o.countConfidence) {
      for (const [threshold, conf] of o.countConfidence) {
        if (n >= threshold) {
          confidence = conf;
          break;
        }
      }
    }
  }
  return mapValue(value, o.valueType, ctx, confidence !== undefined ? { confidence } : {}, location);
}

/**
 * The tokens of a free-text line (MISP freetext feeds, hosts-style lists): separated by white
 * space, and by `,` / `;` outside URLs (which may hold both).
 */
function freeTextTokens(t: string): string[] {
  return t
    .split(/[ \t]+/)
    .flatMap((w) => (w.includes('://') ? [w.replace(/[,;]+$/, '')] : w.split(/[,;]+/)))
    .filter((x) => x !== '');
}

/**
 * One line of a text list → its values. With `auto` detection and no field separator or count
 * column (free text), every further token of the line that is itself a value (`1.2.3.4 evil.example`,
 * `url,hash`) is kept too, up to a comment; other trailing text is ignored as in `mapTextLine`,
 * whose result (the first token's value or rejection) comes first.
 */
export function mapTextLineValues(text: string, line: number, o: TextLineOptions, ctx: MapContext): LineResult[] {
  if (o.valueType !== 'auto' || o.fieldSeparator !== undefined || o.countField !== undefined)
    return [mapTextLine(text, line, o, ctx)];
  // comments and blank lines as mapTextLine decides them; the first value ends at any separator
  const t = text.trim();
  if (t.length === 0 || o.commentPrefixes.some((p) => t.startsWith(p))) return [{ kind: 'skip' }];
  const tokens = freeTextTokens(t);
  const [head] = tokens;
  if (head === undefined) return [mapTextLine(text, line, o, ctx)];
  const mapped = mapTextLine(head, line, o, ctx);
  if ('kind' in mapped) return [mapped];
  const out: LineResult[] = [mapped];
  const seen = new Set(mapped.ok ? [mapped.item.object.id] : []);
  for (const token of tokens.slice(1)) {
    if (o.commentPrefixes.some((p) => token.startsWith(p))) break;
    const r = mapValue(token, 'auto', ctx, {}, { source: ctx.sourceId, line });
    if (!r.ok || seen.has(r.item.object.id)) continue;
    seen.add(r.item.object.id);
    out.push(r);
  }
  return out;
}

export function mapContext(config: CommonSourceConfig, ctx: SourceRunContext): MapContext {
  return {
    now: stixTime(ctx.now),
    sourceId: ctx.id,
    defaults: { labels: config.labels ?? [], confidence: config.confidence, validDays: config.valid_days },
  };
}

/** The later of two ISO-8601 timestamps (their string order is their time order). */
function later(a: string, b: string): string {
  // biome-ignore lint/complexity/useMathMinMax: ISO timestamps compared as strings, not numbers
  return a > b ? a : b;
}
