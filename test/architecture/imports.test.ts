import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PROJECT_ROOT } from '../../src/paths.js';
import { importGraph, importsOf, type ImportEdge } from './import-graph.js';
import { checkImports, LAYERS, type Violation } from './rules.js';
import { must } from '../helpers/must.js';

const edge = (from: string, to: string): ImportEdge => ({ from, to, specifier: to });
/** Rules checked against paths that exist in the tree, so only the planted rule can fire. */
const rulesOf = (edges: ImportEdge[]): Violation['rule'][] =>
  checkImports(edges, PROJECT_ROOT)
    .map((v) => v.rule)
    .sort();

describe('import rules of the tree', () => {
  const edges = importGraph(PROJECT_ROOT);

  it('reads the imports of src, integrations, bench, test and scripts', () => {
    const has = (from: string, to: string) => edges.some((e) => e.from === from && e.to === to);
    assert.ok(has('src/daemon.ts', 'src/config/load.ts'), 'a static import');
    assert.ok(has('src/cli.ts', 'integrations/index.ts'), 'the registry import');
    assert.ok(has('integrations/index.ts', 'integrations/csv/index.ts'), 'a registry entry');
    for (const folder of ['src/', 'integrations/', 'bench/', 'test/']) {
      assert.ok(
        edges.some((e) => e.from.startsWith(folder)),
        `imports read under ${folder}`,
      );
    }
  });

  it('breaks no rule', () => {
    const violations = checkImports(edges, PROJECT_ROOT);
    assert.deepEqual(
      violations.map((v) => `${v.rule}: ${v.message}`),
      [],
    );
  });

  it('places every folder of src/ in a layer', () => {
    const named = new Set(LAYERS.flat());
    const folders = new Set(edges.filter((e) => /^src\/[^/]+\//.test(e.from)).map((e) => e.from.split('/')[1]));
    assert.ok(folders.size >= 10, `${folders.size} folders of src/ seen`);
    assert.deepEqual(
      [...folders].filter((n) => !named.has(must(n, 'n'))),
      [],
    );
  });
});

describe('import rules catch planted violations', () => {
  it('parses static, type-only, dynamic and re-export imports, and leaves packages out', () => {
    const text = [
      "import a from './a.js';",
      "import type { B } from '../b.js';",
      "export { c } from './c/index.js';",
      "const d = await import('./d.js');",
      "import { e } from 'node:fs';",
    ].join('\n');
    assert.deepEqual(
      importsOf('src/x/y.ts', text).map((e) => e.to),
      ['src/x/a.ts', 'src/b.ts', 'src/x/c/index.ts', 'src/x/d.ts'],
    );
  });

  it('a folder cycle in src/', () => {
    assert.deepEqual(
      rulesOf([edge('src/store/merge.ts', 'src/score/model.ts'), edge('src/score/model.ts', 'src/store/contract.ts')]),
      ['cycle'],
    );
  });

  it('an import against the layer order', () => {
    assert.deepEqual(rulesOf([edge('src/store/merge.ts', 'src/delivery/records.ts')]), ['layer']);
    assert.deepEqual(rulesOf([edge('src/core/ids.ts', 'src/config/load.ts')]), ['layer']);
    assert.deepEqual(rulesOf([edge('src/server/lookup.ts', 'src/config/load.ts')]), ['layer']);
  });

  it('a folder with no layer; a new file at the top of src/ is an entry point', () => {
    assert.ok(rulesOf([edge('src/newfolder/x.ts', 'src/core/ids.ts')]).includes('layer'));
    assert.deepEqual(rulesOf([edge('src/cli.ts', 'src/cli-common.ts')]), []);
    assert.deepEqual(rulesOf([edge('src/server/index.ts', 'src/cli-common.ts')]), ['layer']);
  });

  it('src importing an integration, or a registry from outside the CLI', () => {
    assert.deepEqual(rulesOf([edge('src/delivery/runner.ts', 'integrations/splunk/index.ts')]), ['src-integrations']);
    assert.deepEqual(rulesOf([edge('src/daemon.ts', 'integrations/index.ts')]), ['src-integrations']);
    assert.deepEqual(rulesOf([edge('src/cli.ts', 'integrations/index.ts')]), []);
    assert.deepEqual(rulesOf([edge('src/cli-common.ts', 'integrations/index.ts')]), []);
  });

  it('production code importing test or bench code', () => {
    assert.deepEqual(rulesOf([edge('src/enrich/runner.ts', 'test/store/fixtures.ts')]), ['src-test']);
    assert.deepEqual(rulesOf([edge('src/enrich/runner.test.ts', 'test/store/fixtures.ts')]), []);
  });

  it('an integration importing another integration, a registry, or a kit importing an integration', () => {
    assert.deepEqual(rulesOf([edge('integrations/otx/map.ts', 'integrations/abusech/client.ts')]), ['integration']);
    assert.deepEqual(rulesOf([edge('integrations/otx/map.ts', 'integrations/index.ts')]), ['integration']);
    assert.deepEqual(rulesOf([edge('integrations/enrich-kit/http.ts', 'integrations/shodan/index.ts')]), [
      'integration',
    ]);
    assert.deepEqual(rulesOf([edge('integrations/shodan/enricher.ts', 'integrations/enrich-kit/http.ts')]), []);
    assert.deepEqual(rulesOf([edge('integrations/otx/source.ts', 'integrations/otx/map.ts')]), []);
  });

  it('a file-level cycle and a missing file', () => {
    assert.deepEqual(
      rulesOf([
        edge('src/filter/fetch.ts', 'src/filter/warninglists.ts'),
        edge('src/filter/warninglists.ts', 'src/filter/fetch.ts'),
      ]),
      ['file-cycle'],
    );
    assert.deepEqual(rulesOf([edge('src/core/ids.ts', 'src/core/nothing-here.ts')]), ['missing']);
  });
});
