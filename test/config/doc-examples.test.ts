import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { registry } from '../../integrations/index.js';
import { ConfigError } from '../../src/config/load.js';
import { loadCheckedConfig } from '../../src/config/components-check.js';
import { buildConfigSchema } from '../../src/config/config-schema.js';
import { MAPPINGS_DIR } from '../../src/paths.js';
import { PROJECT_ROOT } from '../helpers/corpus.js';
import { must } from '../helpers/must.js';

/**
 * Every configuration a user can copy is checked as the daemon would load it (schema, semantic
 * checks, every source and sink built: mapping files, certificates): the shipped files and every
 * YAML block in the README, docs/ and the integrations' READMEs that is a configuration (has a
 * top-level configuration key). Deployment-provided values get placeholders: environment
 * references, `${file:…}` secrets and the `sha256:…` of `stixgate hash-key`.
 */
const TOP_KEYS = new Set(Object.keys(buildConfigSchema(registry).props));
const dir = mkdtempSync(join(tmpdir(), 'stixgate-examples-'));

function placeholders(text: string): { text: string; env: Record<string, string> } {
  const env = Object.fromEntries(
    [...text.matchAll(/\$\{(?:env:)?([A-Za-z_][A-Za-z0-9_]*)\}/g)].map((m) => [
      m[1],
      `placeholder-${must(m[1], 'm[1]').toLowerCase()}`,
    ]),
  );
  let n = 0;
  const out = text
    .replace(/\$\{file:([^}\n]+)\}/g, () => {
      const p = join(dir, `secret-${n++}`);
      writeFileSync(p, 'placeholder-secret\n');
      return `\${file:${p}}`;
    })
    .replace(/sha256:…/g, `sha256:${'0'.repeat(64)}`);
  return { text: out, env };
}

async function check(name: string, text: string): Promise<string[]> {
  const { text: t, env } = placeholders(text);
  const file = join(dir, `${name.replace(/[^a-z0-9]+/gi, '_')}.yaml`);
  writeFileSync(file, t, { mode: 0o600 });
  const saved = { ...process.env };
  Object.assign(process.env, env);
  try {
    await loadCheckedConfig(file, registry, MAPPINGS_DIR, join(dir, 'data'));
    return [];
  } catch (e) {
    assert.ok(e instanceof ConfigError, `${name}: ${String(e)}`);
    return e.issues.map((i) => `${name}: ${i.path}: ${i.message}`);
  } finally {
    for (const k of Object.keys(env)) if (!(k in saved)) delete process.env[k];
  }
}

test('the shipped configurations and examples load as the daemon loads them', async () => {
  const files = [
    'config/stixgate.yaml',
    'config/docker.yaml',
    ...readdirSync(join(PROJECT_ROOT, 'config', 'examples'))
      .filter((f) => f.endsWith('.yaml'))
      .map((f) => `config/examples/${f}`),
  ];
  assert.ok(files.length >= 9);
  const problems: string[] = [];
  for (const f of files) problems.push(...(await check(f, readFileSync(join(PROJECT_ROOT, f), 'utf8'))));
  assert.deepEqual(problems, []);
});

test('every configuration block in the README, docs/ and the integration READMEs is valid', async () => {
  assert.ok(TOP_KEYS.has('sources') && TOP_KEYS.has('server'), 'the schema exposes its top-level keys');
  const docs = [
    'README.md',
    ...readdirSync(join(PROJECT_ROOT, 'docs'))
      .filter((f) => f.endsWith('.md'))
      .map((f) => `docs/${f}`),
  ];
  for (const d of readdirSync(join(PROJECT_ROOT, 'integrations')))
    if (existsSync(join(PROJECT_ROOT, 'integrations', d, 'README.md'))) docs.push(`integrations/${d}/README.md`);
  const problems: string[] = [];
  let checked = 0;
  for (const f of docs) {
    const blocks = [...readFileSync(join(PROJECT_ROOT, f), 'utf8').matchAll(/```ya?ml\n([\s\S]*?)```/g)];
    for (const [i, m] of blocks.entries()) {
      let doc: unknown;
      try {
        doc = parseYaml(must(m[1], 'm[1]'));
      } catch (e) {
        problems.push(`${f} block ${i + 1}: not YAML (${(e as Error).message.split('\n')[0]})`);
        continue;
      }
      // a configuration block has a top-level configuration key (mapping-table examples do not)
      if (!doc || typeof doc !== 'object' || !Object.keys(doc).some((k) => TOP_KEYS.has(k))) continue;
      checked++;
      problems.push(...(await check(`${f} block ${i + 1}`, must(m[1], 'm[1]'))));
    }
  }
  assert.deepEqual(problems, []);
  assert.ok(checked >= 8, `${checked} blocks checked`);
});
