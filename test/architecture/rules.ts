/**
 * The import rules of the project, as a pure check over import edges (test/architecture/import-graph.ts).
 *
 *   1. No folder-level cycle inside src/ (a folder of src/, or a file at its top, is one node).
 *   2. Imports flow down the layers: a folder of src/ imports only folders of its own layer or lower.
 *   3. src/ imports nothing from integrations/ except the two registries (integrations/index.ts,
 *      integrations/simulators.ts), and only from the CLI (src/cli*.ts), which hands them to the configuration
 *      and the daemon as values.
 *   4. Production code in src/ imports nothing from test/, bench/ or scripts/ (unit tests beside the
 *      code, `*.test.ts`, may use the test helpers).
 *   5. An integration folder imports src/, its own folder, the shared integration kits and test
 *      helpers; never another integration's folder or a registry. A shared kit imports no
 *      integration folder.
 *   6. No file-level import cycle in src/ or integrations/ (two modules that need each other are
 *      one concept split in two, or a missing third module).
 *   7. Every relative import names a file that exists.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ImportEdge } from './import-graph.js';
import { must } from '../helpers/must.js';

/** Layers of src/, lowest first. A folder (or top-level file) imports only its own layer or lower ones. */
export const LAYERS: readonly (readonly string[])[] = [
  ['core', 'telemetry', 'paths.ts'],
  ['score', 'store'],
  ['pipeline', 'http', 'delivery', 'enrich', 'access', 'formats', 'filter', 'correlate', 'lookup', 'search', 'edl'],
  ['server'],
  ['config'],
  ['daemon.ts', 'cli.ts', '(every other file at the top of src/)'],
];

/** The registries of integrations/, and the only file of src/ that may import them. */
export const REGISTRIES = ['integrations/index.ts', 'integrations/simulators.ts'];
/** The CLI's files (src/cli.ts, src/cli-*.ts): the only importers of the registries. */
export const isRegistryImporter = (p: string): boolean => /^src\/cli(-[a-z-]+)?\.ts$/.test(p);

/** Shared integration libraries: any integration may import them; they import no integration folder. */
export const SHARED_KITS = ['integrations/enrich-kit/', 'integrations/sim-kit.ts', 'integrations/loopback-server.ts'];

export interface Violation {
  rule: 'cycle' | 'file-cycle' | 'layer' | 'src-integrations' | 'src-test' | 'integration' | 'missing';
  message: string;
}

const isTest = (p: string): boolean => /\.(test|itest)\.ts$/.test(p);

/** The src/ node of a path: `src/<folder>` or `src/<file>` for a top-level file; undefined outside src/. */
export function srcNode(p: string): string | undefined {
  const parts = p.split('/');
  if (parts[0] !== 'src' || parts.length < 2) return undefined;
  return `src/${parts[1]}`;
}

/** A folder's layer; a file at the top of src/ not listed lower (paths.ts) is an entry point: the top layer. */
function layerOf(node: string): number | undefined {
  const name = node.slice('src/'.length);
  const i = LAYERS.findIndex((l) => l.includes(name));
  if (i < 0 && name.endsWith('.ts')) return LAYERS.length - 1;
  return i < 0 ? undefined : i;
}

/** The integration folder of a path (`integrations/<name>/`), or the shared kit it belongs to. */
function integrationFolder(p: string): string | undefined {
  const parts = p.split('/');
  if (parts[0] !== 'integrations' || parts.length < 3) return undefined;
  return `integrations/${parts[1]}/`;
}
const isKit = (p: string): boolean => SHARED_KITS.some((k) => (k.endsWith('/') ? p.startsWith(k) : p === k));

/** Strongly connected components (Tarjan) of a graph given as adjacency sets. */
export function stronglyConnected(graph: ReadonlyMap<string, ReadonlySet<string>>): string[][] {
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string): void => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    on.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(must(low.get(v), 'low.get(v)'), must(low.get(w), 'low.get(w)')));
      } else if (on.has(w)) low.set(v, Math.min(must(low.get(v), 'low.get(v)'), must(idx.get(w), 'idx.get(w)')));
    }
    if (low.get(v) === idx.get(v)) {
      const comp: string[] = [];
      let w: string;
      do {
        w = must(stack.pop(), 'stack.pop()');
        on.delete(w);
        comp.push(w);
      } while (w !== v);
      out.push(comp.sort());
    }
  };
  for (const v of [...graph.keys()].sort()) if (!idx.has(v)) visit(v);
  return out;
}

function cycles(edges: readonly ImportEdge[]): Violation[] {
  const graph = new Map<string, Set<string>>();
  const sample = new Map<string, ImportEdge>();
  for (const e of edges) {
    const a = srcNode(e.from);
    const b = srcNode(e.to);
    if (!a || !b || a === b) continue;
    (graph.get(a) ?? must(graph.set(a, new Set()).get(a), 'graph.set(a, new Set()).get(a)')).add(b);
    if (!sample.has(`${a}>${b}`)) sample.set(`${a}>${b}`, e);
  }
  return stronglyConnected(graph)
    .filter((c) => c.length > 1)
    .map((c) => {
      const inside = [...sample.entries()].filter(
        ([k]) =>
          c.includes(must(k.split('>')[0], "k.split('>')[0]")) && c.includes(must(k.split('>')[1], "k.split('>')[1]")),
      );
      return {
        rule: 'cycle' as const,
        message: `folders ${c.join(', ')} import each other: ${inside.map(([, e]) => `${e.from} → ${e.to}`).join('; ')}`,
      };
    });
}

function checkEdge(e: ImportEdge): Violation | undefined {
  const fromNode = srcNode(e.from);
  const toNode = srcNode(e.to);
  if (fromNode && toNode && fromNode !== toNode) {
    const a = layerOf(fromNode);
    const b = layerOf(toNode);
    if (a === undefined || b === undefined) {
      return {
        rule: 'layer',
        message: `${a === undefined ? fromNode : toNode} has no layer (add it to LAYERS in test/architecture/rules.ts): ${e.from} → ${e.to}`,
      };
    }
    if (b > a)
      return {
        rule: 'layer',
        message: `${e.from} imports ${e.to}: ${toNode} sits above ${fromNode} in the layer order`,
      };
  }
  if (fromNode && e.to.startsWith('integrations/')) {
    if (!REGISTRIES.includes(e.to) || !isRegistryImporter(e.from)) {
      return {
        rule: 'src-integrations',
        message: `${e.from} imports ${e.to}: the engine reaches integrations only through the registries, from the CLI (src/cli.ts, src/cli-*.ts)`,
      };
    }
  }
  if (fromNode && !isTest(e.from) && /^(test|bench|scripts)\//.test(e.to)) {
    return {
      rule: 'src-test',
      message: `${e.from} imports ${e.to}: production code never imports test, bench or script code`,
    };
  }
  if (e.from.startsWith('integrations/') && !REGISTRIES.includes(e.from)) {
    const own = integrationFolder(e.from);
    const target = e.to;
    if (target.startsWith('integrations/')) {
      const allowed = isKit(target)
        ? !isKit(e.from) || isKit(target)
        : own !== undefined && !isKit(e.from) && target.startsWith(own);
      if (!allowed) {
        return {
          rule: 'integration',
          message: `${e.from} imports ${target}: an integration imports only src/, its own folder and the shared kits (${SHARED_KITS.join(', ')})`,
        };
      }
    }
  }
  return undefined;
}

function fileCycles(edges: readonly ImportEdge[]): Violation[] {
  const graph = new Map<string, Set<string>>();
  for (const e of edges) {
    if (!/^(src|integrations)\//.test(e.from) || e.from === e.to) continue;
    (
      graph.get(e.from) ?? must(graph.set(e.from, new Set()).get(e.from), 'graph.set(e.from, new Set()).get(e.from)')
    ).add(e.to);
  }
  return stronglyConnected(graph)
    .filter((c) => c.length > 1)
    .map((c) => ({ rule: 'file-cycle' as const, message: `modules ${c.join(', ')} import each other` }));
}

/** Every violation of the rules above among `edges` (paths relative to `root`). */
export function checkImports(edges: readonly ImportEdge[], root: string): Violation[] {
  const out: Violation[] = [];
  for (const e of edges) {
    if (!existsSync(join(root, e.to)))
      out.push({ rule: 'missing', message: `${e.from} imports ${e.specifier}, which does not exist (${e.to})` });
    const v = checkEdge(e);
    if (v) out.push(v);
  }
  return [...out, ...cycles(edges), ...fileCycles(edges)];
}
