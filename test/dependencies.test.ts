import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from './helpers/corpus.js';

/** The FAULTS X6 floors: versions with the fixes the catalogue's anchors name. */
const FLOORS: Record<string, string> = { xml2js: '0.5.0', undici: '7.18.2', fastify: '5.0.0', 'js-yaml': '4.1.1' };

function atLeast(version: string, floor: string): boolean {
  const a = version.split(/[.+-]/).slice(0, 3).map(Number);
  const b = floor.split('.').map(Number);
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i] > b[i];
  return true;
}

test('X6: every copy of xml2js, undici, fastify and js-yaml in the lock file is at or above its floor', () => {
  const lock = JSON.parse(readFileSync(join(PROJECT_ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { version?: string }> };
  const found: string[] = [];
  for (const [path, meta] of Object.entries(lock.packages)) {
    const name = path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length);
    const floor = FLOORS[name];
    if (!floor || !path.includes('node_modules/')) continue;
    found.push(name);
    assert.ok(meta.version && atLeast(meta.version, floor), `${path} is ${meta.version}, below ${floor}`);
  }
  for (const direct of ['xml2js', 'undici', 'fastify']) assert.ok(found.includes(direct), `${direct} is in the lock file`);
  assert.equal(atLeast('7.18.1', '7.18.2'), false);
  assert.equal(atLeast('8.0.0', '7.18.2'), true);
});
