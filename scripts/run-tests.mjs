#!/usr/bin/env node
// Runs every *.test.ts under test/, src/ and integrations/ with node's test runner (through tsx),
// in a non-UTC time zone so that time-zone bugs show. Arguments narrow the set by substring.
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';

const root = new URL('..', import.meta.url).pathname;
const filters = process.argv.slice(2);
const files = [];
function walk(dir) {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (name.endsWith('.test.ts')) files.push(relative(root, p));
  }
}
for (const d of ['test', 'src', 'integrations']) {
  try {
    walk(join(root, d));
  } catch {
    /* folder absent */
  }
}
const selected = files.sort().filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)));
if (selected.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}
const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=2', ...selected], {
  cwd: root,
  stdio: 'inherit',
  env: {
    ...process.env,
    TZ: process.env.TZ ?? 'Asia/Kolkata',
    STIXGATE_LOG_LEVEL: process.env.STIXGATE_LOG_LEVEL ?? 'silent',
  },
});
process.exit(r.status ?? 1);
