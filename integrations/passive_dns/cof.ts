import type { HttpResponse } from '../../src/http/types.js';
import { isRecord } from '../enrich-kit/http.js';

/**
 * Reading Passive DNS Common Output Format answers (draft-dulaunoy-dnsop-passive-dns-cof):
 * newline-delimited JSON objects (or, from some servers, one JSON array), read as a stream and
 * cut at `maxRecords`. Numbers may be JSON numbers or decimal strings (CIRCL prints strings).
 */

export interface CofRow {
  rrname: string;
  rrtype: string;
  rdata: string[];
  /** Epoch seconds. */
  first: number;
  last: number;
  count: number;
  /** 1-based line of the answer the record came from. */
  line: number;
}

export type RowError = { what: string; path: string; line: number };

const MAX_LINE = 65_536;

/** The media type CIRCL answers with. */
export const NDJSON = 'application/x-ndjson';

/** Streams the JSON texts of an NDJSON body with their line numbers; at most `max` non-blank lines. */
export async function* ndjsonLines(
  res: HttpResponse,
  max: number,
  tooLong: (line: number) => Error,
): AsyncGenerator<{ text: string; line: number }> {
  const dec = new TextDecoder('utf-8');
  let buf = '';
  let line = 0;
  let yielded = 0;
  for await (const chunk of res.body) {
    buf += dec.decode(chunk, { stream: true });
    for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
      const text = buf.slice(0, nl).trim();
      buf = buf.slice(nl + 1);
      line++;
      if (text === '') continue;
      yield { text, line };
      if (++yielded >= max) return;
    }
    if (buf.length > MAX_LINE) throw tooLong(line + 1);
  }
  buf += dec.decode();
  if (buf.trim() !== '') yield { text: buf.trim(), line: line + 1 };
}

function num(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && /^\d{1,15}(\.\d+)?$/.test(v.trim())) return Number(v.trim());
  return undefined;
}

/** Validates one COF record; returns the row or what is wrong with it. */
export function cofRow(v: unknown, line: number, at: string): CofRow | RowError {
  if (!isRecord(v)) return { what: 'record is not a JSON object', path: at, line };
  const { rrname, rrtype } = v;
  if (typeof rrname !== 'string' || rrname === '')
    return { what: '`rrname` is missing or not a string', path: `${at}.rrname`, line };
  if (typeof rrtype !== 'string' || rrtype === '')
    return { what: '`rrtype` is missing or not a string', path: `${at}.rrtype`, line };
  const rdata =
    typeof v.rdata === 'string'
      ? [v.rdata]
      : Array.isArray(v.rdata) && v.rdata.every((d) => typeof d === 'string')
        ? (v.rdata as string[])
        : undefined;
  if (!rdata) return { what: '`rdata` is missing or not a string or list of strings', path: `${at}.rdata`, line };
  const first = num(v.time_first ?? v.zone_time_first);
  const last = num(v.time_last ?? v.zone_time_last);
  if (first === undefined)
    return { what: '`time_first` is missing or not epoch seconds', path: `${at}.time_first`, line };
  if (last === undefined) return { what: '`time_last` is missing or not epoch seconds', path: `${at}.time_last`, line };
  const count = v.count === undefined ? 1 : num(v.count);
  if (count === undefined) return { what: '`count` is not a number', path: `${at}.count`, line };
  return {
    rrname,
    rrtype: rrtype.toUpperCase(),
    rdata,
    first: Math.min(first, last),
    last: Math.max(first, last),
    count: Math.floor(count),
    line,
  };
}
