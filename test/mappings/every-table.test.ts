/**
 * Every file under mappings/ is a table that a loader claims and that loads through the hardened
 * YAML loader and its schema: a table added without a loader (so never validated at load) fails here.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { loadSinkMapping } from '../../src/delivery/records.js';
import type { SinkDefinition } from '../../src/delivery/types.js';
import { MAPPINGS_DIR } from '../../src/paths.js';
import { registry } from '../../integrations/index.js';
import { loadColumnMap } from '../../integrations/csv/column-map.js';
import { loadMispTable } from '../../integrations/misp/table.js';
import { loadOpenIocTerms } from '../../integrations/openioc/map.js';
import { loadOtxTypes } from '../../integrations/otx/types-table.js';
import { loadStix1Tables } from '../../integrations/stix1/common.js';

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? filesUnder(p) : [relative(MAPPINGS_DIR, p).split('\\').join('/')];
  });
}

const sinks = registry.filter((d): d is SinkDefinition => d.kind === 'sink');

/** The loader of one table, by its path under mappings/; undefined when no loader reads it. */
function loaderOf(file: string): (() => unknown) | undefined {
  const m = /^([a-z0-9_]+)\/([a-z0-9_-]+)\.yaml$/.exec(file);
  if (!m) return undefined;
  const [, folder, name] = m;
  if (folder === 'csv') return () => loadColumnMap({ mapping: name } as never, MAPPINGS_DIR, 't');
  if (file === 'misp/attributes.yaml') return () => loadMispTable(MAPPINGS_DIR);
  if (file === 'otx/indicator-types.yaml') return () => loadOtxTypes(MAPPINGS_DIR);
  if (file === 'openioc/terms.yaml') return () => loadOpenIocTerms(MAPPINGS_DIR);
  if (file === 'stix1/vocab.yaml') return () => loadStix1Tables(MAPPINGS_DIR);
  const sink = folder === 'sinks' ? sinks.find((d) => d.type === name) : undefined;
  if (sink) return () => loadSinkMapping(join(MAPPINGS_DIR, file), sink.mappingSections);
  return undefined;
}

test('every file under mappings/ is claimed by a table loader and loads', () => {
  const files = filesUnder(MAPPINGS_DIR).sort();
  assert.ok(files.length >= 15, `${files.length} tables`);
  const unclaimed = files.filter((f) => loaderOf(f) === undefined);
  assert.deepEqual(unclaimed, [], 'tables no loader validates');
  for (const f of files) assert.ok(loaderOf(f)?.(), f);
});

test('a table in an unknown place or with another extension is not claimed', () => {
  assert.equal(loaderOf('sinks/splunk_kv.yml'), undefined);
  assert.equal(loaderOf('sinks/nosuchsink.yaml'), undefined);
  assert.equal(loaderOf('misc/extra.yaml'), undefined);
  assert.notEqual(loaderOf('otx/indicator-types.yaml'), undefined);
});
