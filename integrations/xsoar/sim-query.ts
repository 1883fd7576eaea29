/**
 * The subset of XSOAR's Lucene-like indicator query language the simulator understands
 * (the `query` of XSOAR's IndicatorFilter): `field:value`, `field:"quoted value"`,
 * `field:(a b "c")` (any of), `field:>2` / `>=` / `<` / `<=` on numbers, `*` wildcards, a bare
 * value (= the `value` field), `AND` / `OR` / `NOT` / `-term` and parentheses. Adjacent terms are
 * AND-ed. Matching is case-insensitive. An unparsable query throws a QueryError (the simulator
 * answers 400).
 */

import { at, first } from '../../src/core/indexed.js';

export type Getter = (field: string) => unknown;
export type Predicate = (get: Getter) => boolean;

export class QueryError extends Error {}

type Tok = { t: 'word' | 'quoted' | '(' | ')' | ':' | '-'; v: string };

function lex(q: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < q.length) {
    const c = q.charAt(i);
    if (/\s/.test(c)) i++;
    else if (c === '(' || c === ')' || c === ':') {
      out.push({ t: c, v: c });
      i++;
    } else if (c === '-' && out.at(-1)?.t !== ':') {
      out.push({ t: '-', v: c });
      i++;
    } else if (c === '"') {
      let v = '';
      i++;
      while (i < q.length && q[i] !== '"') {
        if (q[i] === '\\' && i + 1 < q.length) i++;
        v += q[i++];
      }
      if (i >= q.length) throw new QueryError(`unterminated quote in query ${JSON.stringify(q)}`);
      i++;
      out.push({ t: 'quoted', v });
    } else {
      let v = '';
      while (i < q.length && !/[\s():"]/.test(q.charAt(i))) {
        if (q[i] === '\\' && i + 1 < q.length) i++;
        v += q[i++];
      }
      out.push({ t: 'word', v });
    }
  }
  return out;
}

function valueMatcher(raw: string, quoted: boolean): (x: unknown) => boolean {
  const cmp = !quoted ? /^(>=|<=|>|<)(.+)$/.exec(raw) : null;
  if (cmp) {
    const n = Number(cmp[2]);
    if (!Number.isFinite(n)) throw new QueryError(`comparison needs a number, got ${JSON.stringify(raw)}`);
    const op = cmp[1];
    return (x) => typeof x === 'number' && (op === '>' ? x > n : op === '>=' ? x >= n : op === '<' ? x < n : x <= n);
  }
  const want = raw.toLowerCase();
  const glob =
    !quoted && want.includes('*')
      ? new RegExp(
          `^${want
            .split('*')
            .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
            .join('.*')}$`,
          's',
        )
      : undefined;
  const one = (x: unknown): boolean => {
    if (x === undefined || x === null) return false;
    const s = String(x).toLowerCase();
    return glob ? glob.test(s) : s === want;
  };
  return (x) => (Array.isArray(x) ? x.some(one) : one(x));
}

export function parseQuery(q: string): Predicate {
  const toks = lex(q);
  let p = 0;
  const peekWord = (w: string): boolean => {
    const t = toks[p];
    return t?.t === 'word' && t.v.toUpperCase() === w;
  };

  function orExpr(): Predicate {
    const parts = [andExpr()];
    while (peekWord('OR')) {
      p++;
      parts.push(andExpr());
    }
    return parts.length === 1 ? first(parts) : (g) => parts.some((f) => f(g));
  }
  function andExpr(): Predicate {
    const parts = [unary()];
    while (p < toks.length && toks[p]?.t !== ')' && !peekWord('OR')) {
      if (peekWord('AND')) p++;
      parts.push(unary());
    }
    return parts.length === 1 ? first(parts) : (g) => parts.every((f) => f(g));
  }
  function unary(): Predicate {
    const t = toks[p];
    if (!t) throw new QueryError(`query ${JSON.stringify(q)} ends where a term was expected`);
    if (t.t === '-' || (t.t === 'word' && t.v.toUpperCase() === 'NOT')) {
      p++;
      const f = unary();
      return (g) => !f(g);
    }
    if (t.t === '(') {
      p++;
      const f = orExpr();
      if (toks[p]?.t !== ')') throw new QueryError(`missing ")" in query ${JSON.stringify(q)}`);
      p++;
      return f;
    }
    p++;
    return term(t);
  }
  /** The term starting at `t`, the token just consumed. */
  function term(t: Tok): Predicate {
    if (t.t !== 'word' && t.t !== 'quoted') throw new QueryError(`unexpected "${t.v}" in query ${JSON.stringify(q)}`);
    if (t.t === 'word' && toks[p]?.t === ':') {
      p++;
      const field = t.v;
      const v = toks[p];
      if (v?.t === '(') {
        p++;
        const ms: ((x: unknown) => boolean)[] = [];
        for (let x = toks[p]; x && x.t !== ')'; x = toks[p]) {
          p++;
          if (x.t === 'word' && x.v.toUpperCase() === 'OR') continue;
          if (x.t !== 'word' && x.t !== 'quoted')
            throw new QueryError(`unexpected "${x.v}" in the value list of ${field} in query ${JSON.stringify(q)}`);
          ms.push(valueMatcher(x.v, x.t === 'quoted'));
        }
        if (toks[p]?.t !== ')')
          throw new QueryError(`missing ")" after the value list of ${field} in query ${JSON.stringify(q)}`);
        p++;
        return (g) => {
          const x = g(field);
          return ms.some((m) => m(x));
        };
      }
      if (!v || (v.t !== 'word' && v.t !== 'quoted'))
        throw new QueryError(`field ${field} has no value in query ${JSON.stringify(q)}`);
      p++;
      const m = valueMatcher(v.v, v.t === 'quoted');
      return (g) => m(g(field));
    }
    const m = valueMatcher(t.v, t.t === 'quoted');
    return (g) => m(g('value'));
  }

  if (toks.length === 0) return () => true;
  const f = orExpr();
  if (p < toks.length) throw new QueryError(`unexpected "${at(toks, p).v}" in query ${JSON.stringify(q)}`);
  return f;
}
