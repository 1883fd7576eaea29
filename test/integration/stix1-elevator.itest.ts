/**
 * Our STIX 1.x mapping against the OASIS stix2-elevator run live (scripts/oracles/elevate_stix1.py,
 * the PyPI package in the venv scripts/integration.sh prepares) on every STIX 1.x package of the
 * corpus: agreement of indicators, equivalent patterns, observables and relationships, by the
 * rules of integrations/stix1/idiom-compare.ts. The totals are the figures in
 * integrations/stix1/README.md; the minima asserted below are documented there too. Every bundle
 * we emit for these packages also passes the OASIS stix2-validator.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { openSync, readSync, closeSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { CORPUS_DIR, PROJECT_ROOT } from '../helpers/corpus.js';
import { assertValidStix, PYTHON, VALIDATOR_SKIP } from '../helpers/validator.js';
import { parseXmlString } from '../../src/core/safe-xml.js';
import type { StixObject } from '../../src/core/stix.js';
import { loadStix1Tables } from '../../integrations/stix1/common.js';
import { mapStix1Package } from '../../integrations/stix1/map.js';
import { compareIdiom, type Agreement } from '../../integrations/stix1/idiom-compare.js';
import { must } from '../helpers/must.js';

/**
 * Documented minima (integrations/stix1/README.md): the share of the elevator's indicators,
 * patterns, observables and relationships we reproduce over the corpus packages it converts.
 */
const MINIMUM = { indicators: 0.9, patterns: 0.9, observables: 0.45, relationships: 0.35 };

/** Every file of the corpus whose root element is a STIX 1.x package (the elevator's JSON outputs excluded). */
function packages(): string[] {
  const out: string[] = [];
  const head = Buffer.alloc(4096);
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (!/\.(json|md|txt|csv|ndjson|lst|ioc)$/i.test(e.name)) {
        const fd = openSync(p, 'r');
        const n = readSync(fd, head, 0, head.length, 0);
        closeSync(fd);
        if (/<([A-Za-z0-9_]+:)?STIX_Package[\s>]/.test(head.subarray(0, n).toString('utf8'))) out.push(p);
      }
    }
  };
  walk(CORPUS_DIR);
  return out;
}

const tables = loadStix1Tables(join(PROJECT_ROOT, 'mappings'));

function ours(file: string): StixObject[] {
  const { root } = parseXmlString(readFileSync(file), { name: file, file });
  return mapStix1Package(root, { sourceId: 'corpus', file, fallbackTime: '2026-03-01T12:00:00.000Z', tables }).objects;
}

test('STIX 1.x corpus against stix2-elevator: agreement figures and the documented minima; every bundle we emit is valid', {
  skip: VALIDATOR_SKIP,
  timeout: 900_000,
}, (t) => {
  const files = packages();
  assert.ok(files.length >= 79, `expected the corpus STIX 1.x packages, found ${files.length}`);
  const r = spawnSync(
    must(PYTHON, 'PYTHON'),
    [join(PROJECT_ROOT, 'scripts', 'oracles', 'elevate_stix1.py'), ...files],
    {
      encoding: 'utf8',
      maxBuffer: 1 << 28,
    },
  );
  assert.equal(r.status, 0, r.stderr);
  const elevated = JSON.parse(r.stdout) as Record<string, { objects?: StixObject[]; error?: string }>;

  const sum = {
    indicators: [0, 0, 0],
    patterns: [0, 0, 0],
    observables: [0, 0, 0],
    relationships: [0, 0, 0],
  } as Record<string, [number, number, number]>;
  const add = (k: string, a: Agreement): void => {
    must(sum[k], 'sum[k]')[0] += a.matched;
    must(sum[k], 'sum[k]')[1] += a.ref;
    must(sum[k], 'sum[k]')[2] += a.ours;
  };
  const failed: string[] = [];
  const emitted: [string, StixObject[]][] = [];
  t.diagnostic(`${'package'.padEnd(62)}indicators  patterns    observables relationships  (matched/reference/ours)`);
  for (const f of files) {
    const name = relative(CORPUS_DIR, f);
    const mine = ours(f);
    if (mine.length) emitted.push([name, mine]);
    const ref = elevated[f];
    assert.ok(ref, `no elevator result for ${name}`);
    if (ref.error !== undefined) {
      failed.push(name);
      t.diagnostic(`${name.padEnd(62)}elevator failed (${ref.error.slice(0, 80)}); ours: ${mine.length} objects`);
      continue;
    }
    const c = compareIdiom(mine, ref.objects ?? []);
    for (const k of ['indicators', 'patterns', 'observables', 'relationships'] as const) add(k, c[k]);
    const cell = (a: Agreement): string => `${a.matched}/${a.ref}/${a.ours}`.padEnd(12);
    t.diagnostic(
      `${name.padEnd(62)}${cell(c.indicators)}${cell(c.patterns)}${cell(c.observables)}${cell(c.relationships)}`,
    );
  }
  const share = (k: string): number =>
    must(sum[k], 'sum[k]')[1] === 0 ? 1 : must(sum[k], 'sum[k]')[0] / must(sum[k], 'sum[k]')[1];
  for (const k of Object.keys(sum)) {
    t.diagnostic(
      `TOTAL ${k}: ${must(sum[k], 'sum[k]')[0]} of the elevator's ${must(sum[k], 'sum[k]')[1]} reproduced (${(share(k) * 100).toFixed(1)}%), we emit ${must(sum[k], 'sum[k]')[2]}`,
    );
  }
  t.diagnostic(`packages: ${files.length}, the elevator failed on ${failed.length}: ${failed.join(', ')}`);
  for (const [k, min] of Object.entries(MINIMUM))
    assert.ok(
      share(k) >= min,
      `${k}: ${(share(k) * 100).toFixed(1)}% agreement is below the documented minimum ${min * 100}%`,
    );

  assertValidStix(emitted, (m) => t.diagnostic(m));
});
