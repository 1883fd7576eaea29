import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const projectRoot = resolve(fileURLToPath(new URL('../..', import.meta.url)));

/** The shared corpus root: $STIXGATE_CORPUS, else ../shared/corpus beside the project. */
export const CORPUS_DIR = process.env.STIXGATE_CORPUS ?? resolve(projectRoot, '..', 'shared', 'corpus');

/**
 * Path of a corpus file, or a skip message for node:test when the corpus is absent:
 *   const p = corpusPath('ipsum/ipsum.txt'); test('x', { skip: p.skip }, ...)
 */
export function corpusPath(rel: string): { path: string; skip: string | false } {
  const path = join(CORPUS_DIR, rel);
  return { path, skip: existsSync(path) ? false : `corpus file ${path} not present (set STIXGATE_CORPUS)` };
}

export const PROJECT_ROOT = projectRoot;
