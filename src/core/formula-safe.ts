/**
 * Output safety for spreadsheet-capable consumers (OWASP "CSV Injection"):
 * a string that begins with `=`, `+`, `-`, `@`, TAB or CR is read as a formula by Excel,
 * LibreOffice and Google Sheets when a SOC analyst exports a Splunk lookup, a QRadar reference
 * set or XSOAR indicators to CSV (`=HYPERLINK(...)`, `@SUM(1)`, `=cmd|' /C calc'!A0`). OWASP's
 * treatment: prefix such a cell with a single quote so it stays text.
 *
 * The store keeps values verbatim; this is applied where records leave for a sink (every sink's
 * mapped fields, src/pipeline/sink-records.ts) and in any CSV export.
 */

/** First characters that make a spreadsheet cell a formula (OWASP CSV injection list). */
function isTrigger(c: number): boolean {
  return (
    c === 61 /* = */ ||
    c === 43 /* + */ ||
    c === 45 /* - */ ||
    c === 64 /* @ */ ||
    c === 9 /* TAB */ ||
    c === 13 /* CR */
  );
}

/** The string as spreadsheet-safe text: prefixed with `'` when it starts with a formula trigger. */
export function neutraliseFormula(s: string): string {
  return s.length > 0 && isTrigger(s.charCodeAt(0)) ? `'${s}` : s;
}

/** True when `neutraliseFormula` would change the string. */
export function isFormulaLike(s: string): boolean {
  return s.length > 0 && isTrigger(s.charCodeAt(0));
}

/** A field value with every string (also inside arrays) neutralised; other values unchanged. */
export function neutraliseValue(v: unknown): unknown {
  if (typeof v === 'string') return neutraliseFormula(v);
  if (Array.isArray(v))
    return v.some((x) => typeof x === 'string' && isFormulaLike(x))
      ? v.map((x) => (typeof x === 'string' ? neutraliseFormula(x) : x))
      : v;
  return v;
}

/**
 * One CSV cell (RFC 4180) that is also formula-safe: neutralised, then quoted when it holds a
 * comma, quote, CR or LF (quotes doubled). For every CSV writer of the project.
 */
export function csvCell(s: string): string {
  const t = neutraliseFormula(s);
  return /[",\r\n]/.test(t) || t !== s ? `"${t.replace(/"/g, '""')}"` : t;
}
