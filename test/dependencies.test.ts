import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from './helpers/corpus.js';
import { codeFiles } from './architecture/import-graph.js';
import { must } from './helpers/must.js';

/** Versions with the fixes for the known advisories (xml2js prototype pollution, undici and fastify request smuggling and header bugs, js-yaml merge-key pollution). */
const FLOORS: Record<string, string> = { xml2js: '0.5.0', undici: '7.18.2', fastify: '5.0.0', 'js-yaml': '4.1.1' };

function atLeast(version: string, floor: string): boolean {
  const a = version.split(/[.+-]/).slice(0, 3).map(Number);
  const b = floor.split('.').map(Number);
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return must(a[i], 'a[i]') > must(b[i], 'b[i]');
  return true;
}

test('every copy of xml2js, undici, fastify and js-yaml in the lock file is at or above the version with the known fixes', () => {
  const lock = JSON.parse(readFileSync(join(PROJECT_ROOT, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { version?: string }>;
  };
  const found: string[] = [];
  for (const [path, meta] of Object.entries(lock.packages)) {
    const name = path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length);
    const floor = FLOORS[name];
    if (!floor || !path.includes('node_modules/')) continue;
    found.push(name);
    assert.ok(meta.version && atLeast(meta.version, floor), `${path} is ${meta.version}, below ${floor}`);
  }
  for (const direct of ['undici', 'fastify']) assert.ok(found.includes(direct), `${direct} is in the lock file`);
  assert.equal(atLeast('7.18.1', '7.18.2'), false);
  assert.equal(atLeast('8.0.0', '7.18.2'), true);
});

test('package.json lists what the code uses: every runtime dependency is imported by src/, integrations/ or bin/', () => {
  const pkg = JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as {
    dependencies: Record<string, string>;
  };
  const files = codeFiles(PROJECT_ROOT, ['src', 'integrations', 'bin']).filter((f) => !/\.(test|itest)\.ts$/.test(f));
  const text = files.map((f) => readFileSync(join(PROJECT_ROOT, f), 'utf8')).join('\n');
  const unused = Object.keys(pkg.dependencies).filter(
    (name) => !text.includes(`'${name}'`) && !text.includes(`'${name}/`),
  );
  assert.deepEqual(unused, []);
  assert.equal(pkg.dependencies.xml2js, undefined, 'XML is read by src/core/safe-xml.ts on sax (ADR 0011)');
});
