import { errorMessage } from '../../src/core/errors.js';
/**
 * QRadar REST conventions for the simulator (IBM's QRadar REST API documentation): error bodies, `Range` paging,
 * `filter` and `fields` query parameters.
 */

export interface SimResponse {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/** `http_response.message` per status (IBM's error table). */
export const HTTP_MESSAGES: Record<number, string> = {
  400: 'Invalid syntax for this request was provided.',
  401: 'You are unauthorized to access the requested resource. Please log in.',
  403: 'Your account is not authorized to access the requested resource.',
  404: 'We could not find the resource you requested.',
  405: 'This method type is not currently supported.',
  409: 'The request could not be completed due to a conflict with the current state of the resource.',
  410: 'The requested resource is no longer available at the server.',
  413: 'The request entity is larger than the server is willing or able to process.',
  422: 'The request was well-formed but was unable to be followed due to semantic errors.',
  429: 'Too many requests.',
  500: 'Unexpected internal server error.',
  503: 'The server is currently unavailable.',
};

/** QRadar's error body: `{http_response:{code,message},code,message,description,details}`. */
export function qerror(
  status: number,
  code: number,
  message: string,
  description = '',
  details: Record<string, unknown> = {},
): SimResponse {
  return {
    status,
    body: {
      http_response: { code: status, message: HTTP_MESSAGES[status] ?? 'Unexpected internal server error.' },
      code,
      message,
      description,
      details,
    },
  };
}

export const ok = (body: unknown, status = 200, headers?: Record<string, string>): SimResponse => ({
  status,
  body,
  headers,
});

// ---- Range ------------------------------------------------------------------------------------

/** Parses `Range: items=x-y`; undefined when absent, an error response when malformed. */
export function parseRange(h: string | undefined): { start: number; end: number } | SimResponse | undefined {
  if (h === undefined) return undefined;
  const m = /^\s*items\s*=\s*(-?\d+)\s*-\s*(-?\d+)\s*$/.exec(h);
  if (!m)
    return qerror(
      422,
      36,
      'Failed to parse Range header. The syntax of the Range header must follow this pattern: items=x-y',
      'The Range header is not valid.',
    );
  const start = Number(m[1]);
  const end = Number(m[2]);
  if (start < 0 || end < 0)
    return qerror(
      422,
      36,
      'Range of pages specified in "Range" header is negative. The syntax of the Range header must follow this pattern: items=x-y',
      'The Range header is not valid.',
    );
  if (end < start)
    return qerror(
      422,
      36,
      'Failed to parse Range header. The end of the range must not precede its start.',
      'The Range header is not valid.',
    );
  return { start, end };
}

/** Applies a Range to a list: the slice and the `Content-Range` header. */
export function page<T>(
  items: T[],
  range: { start: number; end: number } | undefined,
): { items: T[]; headers: Record<string, string> } {
  const total = items.length;
  if (!range)
    return {
      items,
      headers: total ? { 'Content-Range': `items 0-${total - 1}/${total}` } : { 'Content-Range': `items */0` },
    };
  if (range.start >= total) return { items: [], headers: { 'Content-Range': `items */${total}` } };
  const end = Math.min(range.end, total - 1);
  return {
    items: items.slice(range.start, end + 1),
    headers: { 'Content-Range': `items ${range.start}-${end}/${total}` },
  };
}

// ---- fields -----------------------------------------------------------------------------------

/** `fields=a,b,data(value,last_seen)`: keeps the named keys (one level of sub-fields). */
export function project(v: unknown, fields: string | null): unknown {
  if (!fields) return v;
  const spec = parseFields(fields);
  const one = (o: unknown, sp: Map<string, Map<string, unknown> | null>): unknown => {
    if (Array.isArray(o)) return o.map((x) => one(x, sp));
    if (!o || typeof o !== 'object') return o;
    const out: Record<string, unknown> = {};
    for (const [k, sub] of sp) {
      if (!(k in o)) continue;
      const val = (o as Record<string, unknown>)[k];
      out[k] = sub ? one(val, sub as Map<string, Map<string, unknown> | null>) : val;
    }
    return out;
  };
  return one(v, spec);
}

function parseFields(text: string): Map<string, Map<string, unknown> | null> {
  const out = new Map<string, Map<string, unknown> | null>();
  let i = 0;
  const read = (into: Map<string, Map<string, unknown> | null>, close: boolean): void => {
    let name = '';
    const flush = (sub: Map<string, unknown> | null = null) => {
      if (name.trim()) into.set(name.trim(), sub);
      name = '';
    };
    while (i < text.length) {
      const c = text.charAt(i++);
      if (c === ',') flush();
      else if (c === '(') {
        const sub = new Map<string, Map<string, unknown> | null>();
        const key = name;
        read(sub, true);
        name = key;
        flush(sub as Map<string, unknown>);
      } else if (c === ')' && close) {
        flush();
        return;
      } else name += c;
    }
    flush();
  };
  read(out, false);
  return out;
}

// ---- filter -----------------------------------------------------------------------------------

type Tok = { t: 'id' | 'str' | 'num' | 'op' | '(' | ')' | ','; v: string };
export type Pred = (o: Record<string, unknown>) => boolean;

function lex(s: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < s.length) {
    const c = s.charAt(i);
    if (/\s/.test(c)) i++;
    else if (c === '(' || c === ')' || c === ',') {
      out.push({ t: c, v: c });
      i++;
    } else if (c === '"' || c === "'") {
      let v = '';
      i++;
      while (i < s.length && s[i] !== c) {
        if (s[i] === '\\' && i + 1 < s.length) i++;
        v += s[i++];
      }
      if (i >= s.length) throw new Error('unterminated string');
      i++;
      out.push({ t: 'str', v });
    } else if (/[<>=!]/.test(c)) {
      const two = s.slice(i, i + 2);
      const op = ['<=', '>=', '!=', '<>'].includes(two) ? two : c;
      if (op === '!') throw new Error('bad operator');
      out.push({ t: 'op', v: op });
      i += op.length;
    } else if (/[-\d]/.test(c)) {
      const m = /^-?\d+(\.\d+)?/.exec(s.slice(i));
      if (!m) throw new Error('bad number');
      out.push({ t: 'num', v: m[0] });
      i += m[0].length;
    } else if (/[A-Za-z_]/.test(c)) {
      const id = /^[A-Za-z_][\w.]*/.exec(s.slice(i))?.[0] ?? c; // c itself matches
      out.push({ t: 'id', v: id });
      i += id.length;
    } else throw new Error(`unexpected ${c}`);
  }
  return out;
}

function cmp(a: unknown, b: string | number, ci = false): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  let as = a === null || a === undefined ? '' : String(a);
  let bs = String(b);
  if (ci) {
    as = as.toLowerCase();
    bs = bs.toLowerCase();
  }
  return as < bs ? -1 : as > bs ? 1 : 0;
}

/**
 * Parses QRadar's filter syntax (the subset: `=, !=, <>, <, >, <=, >=, in (…), not in (…), between … and …,
 * is [not] null, ILIKE, CONTAINS`, `and`/`or`/`not`, parentheses). Throws on anything else.
 */
export function parseFilter(text: string, caseInsensitive: ReadonlySet<string> = new Set()): Pred {
  const toks = lex(text);
  let i = 0;
  const peekKw = (kw: string) => {
    const t = toks[i];
    return t?.t === 'id' && t.v.toLowerCase() === kw;
  };
  const expect = (t: Tok['t']): Tok => {
    const k = toks[i++];
    if (!k || k.t !== t) throw new Error(`expected ${t}`);
    return k;
  };
  const value = (): string | number => {
    const k = toks[i++];
    if (k?.t === 'str') return k.v;
    if (k?.t === 'num') return Number(k.v);
    throw new Error('expected a value');
  };
  const list = (): (string | number)[] => {
    expect('(');
    const vs = [value()];
    while (toks[i]?.t === ',') {
      i++;
      vs.push(value());
    }
    expect(')');
    return vs;
  };
  const comparison = (): Pred => {
    const field = expect('id').v;
    const get = (o: Record<string, unknown>) => o[field];
    const ci = caseInsensitive.has(field);
    const k = toks[i];
    if (k?.t === 'op') {
      i++;
      const v = value();
      const tests: Record<string, (c: number) => boolean> = {
        '=': (c) => c === 0,
        '!=': (c) => c !== 0,
        '<>': (c) => c !== 0,
        '<': (c) => c < 0,
        '>': (c) => c > 0,
        '<=': (c) => c <= 0,
        '>=': (c) => c >= 0,
      };
      const t = tests[k.v];
      if (!t) throw new Error(`unsupported operator ${k.v}`);
      return (o) => t(cmp(get(o), v, ci));
    }
    const neg = peekKw('not');
    if (neg) i++;
    if (peekKw('in')) {
      i++;
      const vs = list();
      return (o) => vs.some((v) => cmp(get(o), v, ci) === 0) !== neg;
    }
    if (neg) throw new Error('expected in after not');
    if (peekKw('between')) {
      i++;
      const lo = value();
      if (!peekKw('and')) throw new Error('expected and');
      i++;
      const hi = value();
      return (o) => cmp(get(o), lo) >= 0 && cmp(get(o), hi) <= 0;
    }
    if (peekKw('is')) {
      i++;
      const not = peekKw('not');
      if (not) i++;
      if (!peekKw('null')) throw new Error('expected null');
      i++;
      return (o) => (get(o) === null || get(o) === undefined) !== not;
    }
    if (peekKw('ilike')) {
      i++;
      const v = String(value());
      const re = new RegExp(
        `^${v
          .replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
          .replace(/%/g, '.*')
          .replace(/_/g, '.')}$`,
        'is',
      );
      return (o) => re.test(String(get(o) ?? ''));
    }
    if (peekKw('contains')) {
      i++;
      const v = value();
      return (o) => {
        const x = get(o);
        return Array.isArray(x) ? x.some((y) => cmp(y, v) === 0) : String(x ?? '').includes(String(v));
      };
    }
    throw new Error('expected an operator');
  };
  const factor = (): Pred => {
    if (peekKw('not')) {
      i++;
      const p = factor();
      return (o) => !p(o);
    }
    if (toks[i]?.t === '(') {
      i++;
      const p = orExpr();
      expect(')');
      return p;
    }
    return comparison();
  };
  const andExpr = (): Pred => {
    let p = factor();
    while (peekKw('and')) {
      i++;
      const a = p;
      const b = factor();
      p = (o) => a(o) && b(o);
    }
    return p;
  };
  const orExpr = (): Pred => {
    let p = andExpr();
    while (peekKw('or')) {
      i++;
      const a = p;
      const b = andExpr();
      p = (o) => a(o) || b(o);
    }
    return p;
  };
  const p = orExpr();
  if (i !== toks.length) throw new Error('trailing input');
  return p;
}

/** Filters a list by the `filter` parameter; an error response when the filter does not parse. */
export function applyFilter<T extends Record<string, unknown>>(
  items: T[],
  filter: string | null,
  code: number,
  caseInsensitive?: ReadonlySet<string>,
): T[] | SimResponse {
  if (!filter) return items;
  let p: Pred;
  try {
    p = parseFilter(filter, caseInsensitive);
  } catch (e) {
    return qerror(422, code, 'The filter parameter is not valid.', errorMessage(e));
  }
  return items.filter(p);
}

/**
 * A JSON request body as QRadar reads it: empty → 422 (code 10) naming the body parameter
 * (`body` on the collection APIs, `data` on the legacy reference-set bulk load), unparsable → 400
 * (code 1001) with the parser's message.
 */
export function parseBody(raw: Buffer, param = 'body'): { v: unknown } | SimResponse {
  if (raw.length === 0)
    return qerror(
      422,
      10,
      `Request body must be populated for body parameter "${param}"`,
      'The request body is missing.',
    );
  try {
    return { v: JSON.parse(raw.toString('utf8')) };
  } catch (e) {
    return qerror(
      400,
      1001,
      `An error occurred parsing the JSON formatted message body: ${errorMessage(e)}`,
      'The JSON body could not be parsed.',
    );
  }
}
