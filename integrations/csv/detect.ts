/**
 * The generic CSV mode: a column map chosen from a sample of the document, for feeds that have no
 * prepared map in mappings/csv/. It decides, and reports why:
 *  - the delimiter: the one of `,` TAB `;` `|` that splits the sampled lines into the same number
 *    (> 1) of fields most consistently;
 *  - the header: the first row when none of its fields is an observable and at least one column's
 *    values below it are; else the last comment line with as many fields as the data (abuse.ch
 *    writes `# first_seen_utc,dst_ip,…`); else none (columns are then named by index);
 *  - the value column: the column whose sampled values are most often observables (at least half),
 *    a header name such as `ip`, `url`, `domain`, `hash`, `ioc` breaking ties; its type is fixed
 *    when 90% of the values share one, else detected per value;
 *  - dates: columns whose values are times; by name `last…`/`updated`/`online` → last_seen,
 *    the others → first_seen (one unnamed date column is the first_seen);
 *  - by header name only: confidence (`confidence`, `score`; numbers 0-100), port, malware
 *    (`malware`, `family`, `threat`, `signature`), labels (`tags`, `labels`, `status`), description.
 * Pure: the same sample gives the same map and report.
 */
import { detectObservable } from '../../src/core/observable.js';
import { parseCsvLine } from '../../src/core/csv-rows.js';
import type { ObservableType } from '../../src/core/stix.js';
import type { ColumnMap } from './schema.js';
import { parseFeedTime } from './time.js';
import { at } from '../../src/core/indexed.js';

/** Data lines read before the map is chosen (the rest of the document is mapped with it). */
export const DETECT_SAMPLE_LINES = 200;

const DELIMITERS = [',', '\t', ';', '|'] as const;

export interface Detection {
  delimiter: string;
  /** The header names, or undefined when the columns are addressed by index. */
  header: string[] | undefined;
  /** True when the header is the first data row (it is then skipped). */
  headerRow: boolean;
  columns: ColumnMap['columns'];
  /** One line per decision, for `stixgate convert --explain` and the source's log. */
  report: string[];
}

export class DetectionError extends Error {}

const NAME_HINTS: [RegExp, keyof ColumnMap['columns']][] = [
  [/confidence|score|reliability/, 'confidence'],
  [/port/, 'port'],
  [/malware|family|threat|signature/, 'malware'],
  [/^(tags?|labels?|status|c2_status|url_status|threat_type)$/, 'labels'],
  [/description|comment|reference|info/, 'description'],
];
const VALUE_HINT =
  /(^|_|\b)(ip|ips|ipv4|ipv6|ip_address|address|dst_?ip|src_?ip|url|uri|domain|host|hostname|fqdn|hash|md5|sha1|sha256|sha512|ioc|indicator|observable|value|email)($|_|\b)/;
const LAST_HINT = /last|updated|modified|online|latest/;

function split(text: string, delim: string): string[] | undefined {
  const p = parseCsvLine(text, delim);
  return 'fields' in p ? p.fields.map((f) => f.trim()) : undefined;
}

function chooseDelimiter(lines: readonly string[]): string {
  let best: string = ',';
  let bestScore = -1;
  for (const d of DELIMITERS) {
    const counts = new Map<number, number>();
    for (const l of lines) {
      const n = split(l, d)?.length ?? 0;
      if (n > 1) counts.set(n, (counts.get(n) ?? 0) + 1);
    }
    // the share of lines with the most common field count (> 1)
    const top = Math.max(0, ...counts.values());
    const score = top / Math.max(1, lines.length);
    if (score > bestScore + 1e-9) {
      best = d;
      bestScore = score;
    }
  }
  return best;
}

function observableType(v: string): ObservableType | undefined {
  if (v === '') return undefined;
  const r = detectObservable(v);
  if (!r.ok) return undefined;
  // a dotless "domain" (a word) or a number is not a value a feed lists
  if (r.observable.type === 'domain-name' && !v.includes('.')) return undefined;
  return r.observable.type;
}

const pct = (n: number, d: number) => `${Math.round((100 * n) / Math.max(1, d))}%`;

/**
 * Chooses a column map from the first data lines of a document (`data`: non-blank, non-comment
 * lines) and the comment lines before them (`comments`, prefix removed). Throws DetectionError
 * when no column holds observables.
 */
export function detectColumns(data: readonly string[], comments: readonly string[]): Detection {
  if (data.length === 0) throw new DetectionError('no data rows to detect the columns from');
  const delimiter = chooseDelimiter(data);
  const report: string[] = [
    `delimiter: ${delimiter === '\t' ? 'TAB' : JSON.stringify(delimiter)} (splits ${data.length} sampled line(s) into the most consistent number of fields)`,
  ];
  let rows = data.map((l) => split(l, delimiter)).filter((r): r is string[] => r !== undefined);
  const width = mostCommon(rows.map((r) => r.length));
  let header: string[] | undefined;
  let headerRow = false;
  const first = rows[0];
  if (!first)
    throw new DetectionError(
      `none of the ${data.length} sampled line(s) splits into fields with delimiter ${JSON.stringify(delimiter)} (unbalanced quotes?)`,
    );
  const body = rows.slice(1);
  const firstHasValues = first.some((f) => observableType(f) !== undefined || parseFeedTime(f) !== undefined);
  if (!firstHasValues && body.length > 0 && first.length === width) {
    header = first.map((h) => h.replace(/^#\s*/, ''));
    headerRow = true;
    rows = body;
    report.push(`header: the first row (${header.map((h) => JSON.stringify(h)).join(', ')})`);
  } else {
    const c = [...comments]
      .reverse()
      .map((l) => split(l, delimiter))
      .find((f) => f !== undefined && f.length === width && f.every((x) => /^[A-Za-z_][\w .-]*$/.test(x)));
    if (c) {
      header = c;
      report.push(`header: the comment line ${JSON.stringify(c.join(delimiter))}`);
    } else report.push('header: none (columns are named by their 0-based index)');
  }
  const name = (i: number) => (header?.[i] !== undefined ? `${i} ${JSON.stringify(header[i])}` : `${i}`);
  const norm = (i: number) => (header?.[i] ?? '').trim().toLowerCase();
  // columns are referenced by index: the header may be a comment line
  const ref = (i: number): number => i;
  const used = new Set<number>();

  // the value column
  let value: { i: number; hits: number; types: Map<ObservableType, number>; n: number } | undefined;
  for (let i = 0; i < width; i++) {
    const types = new Map<ObservableType, number>();
    let n = 0;
    let hits = 0;
    for (const r of rows) {
      const v = r[i];
      if (v === undefined || v === '') continue;
      n++;
      const t = observableType(v);
      if (t) {
        hits++;
        types.set(t, (types.get(t) ?? 0) + 1);
      }
    }
    if (n === 0 || hits / n < 0.5) continue;
    const better =
      !value ||
      hits / n > value.hits / value.n + 1e-9 ||
      (Math.abs(hits / n - value.hits / value.n) < 1e-9 && VALUE_HINT.test(norm(i)) && !VALUE_HINT.test(norm(value.i)));
    if (better) value = { i, hits, types, n };
  }
  if (!value) throw new DetectionError(`no column holds observables in at least half of ${rows.length} sampled row(s)`);
  used.add(value.i);
  const [topType, topCount] = at(
    [...value.types.entries()].sort((a, b) => b[1] - a[1]),
    0,
  ); // the column has values
  const type = topCount / value.n >= 0.9 ? topType : 'auto';
  const columns = { value: ref(value.i), type } as ColumnMap['columns'];
  report.push(
    `value: column ${name(value.i)}: ${pct(value.hits, value.n)} of ${value.n} sampled values are observables; type ${type === 'auto' ? `detected per value (${[...value.types.keys()].join(', ')})` : `${type} (${pct(topCount, value.n)})`}`,
  );

  // date columns
  const dates: number[] = [];
  for (let i = 0; i < width; i++) {
    if (used.has(i)) continue;
    const vals = rows.map((r) => r[i]).filter((v): v is string => v !== undefined && v !== '');
    if (
      vals.length > 0 &&
      vals.filter((v) => parseFeedTime(v) !== undefined && !/^\d+$/.test(v)).length / vals.length >= 0.8
    )
      dates.push(i);
  }
  for (const i of dates) {
    const role = LAST_HINT.test(norm(i)) ? 'last_seen' : 'first_seen';
    if (columns[role] !== undefined) continue;
    columns[role] = ref(i);
    used.add(i);
    report.push(`${role}: column ${name(i)} (values are times${role === 'last_seen' ? ', name says last seen' : ''})`);
  }

  // the rest by header name
  for (let i = 0; i < width && header; i++) {
    if (used.has(i)) continue;
    const h = norm(i);
    const hint = NAME_HINTS.find(([re]) => re.test(h));
    if (!hint) continue;
    const role = hint[1];
    if (role === 'labels') {
      columns.labels = [...(columns.labels ?? []), ref(i)];
    } else {
      if (columns[role] !== undefined) continue;
      if (role === 'confidence' || role === 'port') {
        const max = role === 'port' ? 65535 : 100;
        const vals = rows.map((r) => r[i]).filter((v) => v !== undefined && v !== '');
        if (!vals.every((v) => v !== undefined && /^\d+(\.\d+)?$/.test(v) && Number(v) <= max)) continue;
      }
      (columns as Record<string, unknown>)[role] = ref(i);
    }
    used.add(i);
    report.push(`${role}: column ${name(i)} (by its name)`);
  }
  const unused = [...Array(width).keys()].filter((i) => !used.has(i));
  if (unused.length) report.push(`unused: ${unused.map(name).join(', ')}`);
  return { delimiter, header, headerRow, columns, report };
}

function mostCommon(xs: readonly number[]): number {
  const m = new Map<number, number>();
  for (const x of xs) m.set(x, (m.get(x) ?? 0) + 1);
  return [...m.entries()].sort((a, b) => b[1] - a[1] || b[0] - a[0])[0]?.[0] ?? 0;
}
