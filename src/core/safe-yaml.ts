import { Parser } from 'yaml';

/** Where a YAML text first nests deeper than allowed: the character offset and the depth reached. */
export interface YamlTooDeep {
  offset: number;
  depth: number;
}

interface CstNode {
  type: string;
  offset: number;
  value?: CstNode;
  items?: { key?: CstNode | null; value?: CstNode | null }[];
}

/**
 * Finds the first collection of a YAML text nested deeper than `maxDepth`, before the text is
 * composed. The yaml library composes and converts documents recursively, so 5,000 nested
 * brackets or indents end in "Maximum call stack size exceeded"; its CST parser is iterative,
 * and this walk over the CST uses an explicit stack, so any depth is measured safely.
 */
export function yamlTooDeep(text: string, maxDepth: number): YamlTooDeep | undefined {
  const stack: [CstNode, number][] = [];
  for (const token of new Parser().parse(text) as Iterable<CstNode>) {
    if (token.type === 'document' && token.value) stack.push([token.value, 0]);
    for (let top = stack.pop(); top !== undefined; top = stack.pop()) {
      const [node, depth] = top;
      if (!node.items) continue; // a scalar, comment or directive
      if (depth + 1 > maxDepth) return { offset: node.offset, depth: depth + 1 };
      for (const it of node.items) {
        if (it.key) stack.push([it.key, depth + 1]);
        if (it.value) stack.push([it.value, depth + 1]);
      }
    }
  }
  return undefined;
}
