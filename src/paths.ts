import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The project root, whether running from src/ through tsx or from dist/src/. */
function findRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string };
      if (pkg.name === 'stixgate') return dir;
    } catch {
      /* keep walking up */
    }
    dir = resolve(dir, '..');
  }
  return process.cwd();
}

export const PROJECT_ROOT = findRoot();
export const MAPPINGS_DIR = join(PROJECT_ROOT, 'mappings');
export const DEFAULT_CONFIG = join(PROJECT_ROOT, 'config', 'stixgate.yaml');
export const VERSION: string = (
  JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version: string }
).version;
