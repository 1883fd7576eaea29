// Reads every TypeScript file under the project's code folders and lists its relative imports,
// resolved to project paths, using the TypeScript scanner (static, dynamic and type-only imports,
// `export … from` and `import x = require()` alike).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';

export interface ImportEdge {
  /** Importing file, relative to the project root, with `/` separators. */
  from: string;
  /** Imported file, relative to the project root (a `.js` specifier is mapped to its `.ts` source). */
  to: string;
  /** The specifier as written. */
  specifier: string;
}

export const CODE_FOLDERS = ['src', 'integrations', 'bench', 'test', 'scripts'];

const toPosix = (p: string): string => p.split(sep).join('/');

function listFiles(dir: string, out: string[]): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    if (name === 'node_modules' || name.startsWith('.') || name === 'fixtures') continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) listFiles(p, out);
    else if (/\.(ts|mts|mjs|js)$/.test(name) && !name.endsWith('.d.ts')) out.push(p);
  }
}

/** Every code file under the given folders, relative to `root`. */
export function codeFiles(root: string, folders: readonly string[] = CODE_FOLDERS): string[] {
  const out: string[] = [];
  for (const folder of folders) listFiles(join(root, folder), out);
  return out.map((p) => toPosix(relative(root, p))).sort();
}

/** The relative imports of one source text (package imports are left out). */
export function importsOf(file: string, text: string): ImportEdge[] {
  const info = ts.preProcessFile(text, true, true);
  const edges: ImportEdge[] = [];
  for (const ref of info.importedFiles) {
    const specifier = ref.fileName;
    if (!specifier.startsWith('.')) continue;
    const target = toPosix(join(dirname(file), specifier))
      .replace(/\.js$/, '.ts')
      .replace(/\.mjs$/, '.mts');
    edges.push({ from: file, to: target, specifier });
  }
  return edges;
}

/** The import edges of every code file under `root`. */
export function importGraph(root: string, folders: readonly string[] = CODE_FOLDERS): ImportEdge[] {
  const abs = resolve(root);
  return codeFiles(abs, folders).flatMap((f) => importsOf(f, readFileSync(join(abs, f), 'utf8')));
}
