// Counts the type assertions of the production code (`x as T`, `<T>x`, and non-null `x!`) with the
// TypeScript parser, so that comments, strings and `as const` are never counted. Used by the cast
// ratchet test (casts.test.ts) and printable with `node --import tsx test/architecture/casts.ts`.
import { readFileSync } from 'node:fs';
import ts from 'typescript';
import { codeFiles } from './import-graph.js';

/** The folders whose non-test files ship: the engine, the integrations and the scripts. */
export const PRODUCTION_FOLDERS = ['src', 'integrations', 'scripts'];

/** A production file: not a test, not a test helper, not a fixture. */
export const isProduction = (file: string): boolean =>
  !/\.test\.[cm]?[jt]s$/.test(file) && !/(^|\/)(test|tests|fixtures)\//.test(file.replace(/^test\//, ''));

export type CastKind = 'as' | 'as-unknown-as' | 'as-never' | 'as-any' | 'non-null';

export interface Cast {
  file: string;
  line: number;
  kind: CastKind;
  /** The text of the asserted type (`as` casts) or of the expression (`!`). */
  text: string;
}

const kindOf = (node: ts.AsExpression | ts.TypeAssertion): CastKind => {
  const t = node.type;
  if (t.kind === ts.SyntaxKind.NeverKeyword) return 'as-never';
  if (t.kind === ts.SyntaxKind.AnyKeyword) return 'as-any';
  const inner = ts.skipPartiallyEmittedExpressions(node.expression);
  if (
    (ts.isAsExpression(inner) || ts.isTypeAssertionExpression(inner)) &&
    inner.type.kind === ts.SyntaxKind.UnknownKeyword
  )
    return 'as-unknown-as';
  return 'as';
};

/** Every assertion of one source text; the inner `as unknown` of `as unknown as T` is not counted twice. */
export function castsOf(file: string, text: string): Cast[] {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const out: Cast[] = [];
  const inners = new Set<ts.Node>();
  const visit = (node: ts.Node): void => {
    const line = () => sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1;
    if (ts.isAsExpression(node) || ts.isTypeAssertionExpression(node)) {
      const isConst = ts.isTypeReferenceNode(node.type) && node.type.getText(sf) === 'const';
      if (!isConst && !inners.has(node)) {
        const kind = kindOf(node);
        if (kind === 'as-unknown-as') inners.add(ts.skipPartiallyEmittedExpressions(node.expression));
        out.push({ file, line: line(), kind, text: node.type.getText(sf) });
      }
    } else if (ts.isNonNullExpression(node)) {
      out.push({ file, line: line(), kind: 'non-null', text: node.expression.getText(sf) });
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

/** Every assertion in the production files under `root`. */
export function productionCasts(root: string): Cast[] {
  return codeFiles(root, PRODUCTION_FOLDERS)
    .filter(isProduction)
    .flatMap((f) => castsOf(f, readFileSync(`${root}/${f}`, 'utf8')));
}

/** `src/store/x.ts` → `src/store`; `src/cli.ts` → `src`; `scripts/a/b.mjs` → `scripts`. */
export const folderOf = (file: string): string => {
  const parts = file.split('/');
  return parts[0] !== 'scripts' && parts.length > 2 ? `${parts[0]}/${parts[1]}` : (parts[0] ?? file);
};

/** Counts per top-level folder (`src/store`, `integrations/misp`, `scripts`) and kind. */
export function countByFolder(casts: readonly Cast[]): Record<string, Record<CastKind, number>> {
  const out: Record<string, Record<CastKind, number>> = {};
  for (const c of casts) {
    const folder = folderOf(c.file);
    const row = out[folder] ?? { as: 0, 'as-unknown-as': 0, 'as-never': 0, 'as-any': 0, 'non-null': 0 };
    row[c.kind] += 1;
    out[folder] = row;
  }
  return out;
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/.*\//, ''))) {
  const { PROJECT_ROOT } = await import('../../src/paths.js');
  const casts = productionCasts(PROJECT_ROOT);
  if (process.argv.includes('--list'))
    for (const c of casts) console.log(`${c.file}:${c.line}\t${c.kind}\t${c.text.replace(/\s+/g, ' ')}`);
  const totals: Record<string, number> = {};
  for (const c of casts) totals[c.kind] = (totals[c.kind] ?? 0) + 1;
  if (process.argv.includes('--baseline')) {
    const rows = Object.entries(countByFolder(casts)).sort(([a], [b]) => a.localeCompare(b));
    const clean = rows.map(([f, row]) => [f, Object.fromEntries(Object.entries(row).filter(([, n]) => n > 0))]);
    console.log(JSON.stringify(Object.fromEntries(clean), null, 2));
  } else console.log(JSON.stringify(totals));
}
