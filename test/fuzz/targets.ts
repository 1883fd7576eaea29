/**
 * The mapper fuzz targets: every source format, each run through its real entry point.
 * File formats go through the source itself (`collect`, as the golden tests: config schema,
 * input reader, mapper); API formats through their response parser and mapper, fed by an
 * in-process HttpClient that answers with the case's bytes (the network boundary).
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StixgateError } from '../../src/core/errors.js';
import { safeJsonParse } from '../../src/core/safe-json.js';
import type { HttpClient, HttpResponse } from '../../src/http/types.js';
import type { SourceDefinition } from '../../src/pipeline/types.js';
import { registry } from '../../integrations/index.js';
import { collect } from '../golden/run-source.js';
import { CORPUS_DIR, PROJECT_ROOT } from '../helpers/corpus.js';
import { abusechQuery } from '../../integrations/abusech/client.js';
import { mapUrlhausUrl } from '../../integrations/abusech/urlhaus/map.js';
import { mapThreatfoxIoc } from '../../integrations/abusech/threatfox/map.js';
import { mapBazaarSample } from '../../integrations/abusech/malwarebazaar/map.js';
import type { MappedRecord } from '../../src/formats/time-window.js';
import type { MapEnv } from '../../integrations/abusech/common-map.js';
import { mapPulse } from '../../integrations/otx/map.js';
import { loadOtxTypes } from '../../integrations/otx/types-table.js';
import { eventsOf, mapEvent } from '../../integrations/misp/map.js';
import { loadMispTable } from '../../integrations/misp/table.js';
import { parseMispJson } from '../../integrations/misp/fetch.js';
import { TaxiiClient } from '../../integrations/taxii21/client.js';
import { pollCollection } from '../../integrations/taxii21/poll.js';
import type { DocKind } from './mutate.js';
import type { MapOutcome } from './invariants.js';

export interface FuzzTarget {
  name: string;
  kind: DocKind;
  seeds: string[];
  run(input: string): Promise<MapOutcome>;
}

const SEED_DIR = join(PROJECT_ROOT, 'test', 'fuzz', 'seeds');
const NOW = Date.UTC(2026, 0, 15, 12, 0, 0);
const NOW_ISO = new Date(NOW).toISOString();
const MAPPINGS = join(PROJECT_ROOT, 'mappings');
const MAX_CORPUS_SEED_BYTES = 48 * 1024;

const work = mkdtempSync(join(tmpdir(), 'stixgate-fuzz-'));
let fileNo = 0;
process.once('exit', () => rmSync(work, { recursive: true, force: true }));

function seed(name: string): string {
  return readFileSync(join(SEED_DIR, name), 'utf8');
}

/** Small files of a corpus folder (when the corpus is present) as extra seeds. */
export function corpusSeeds(rel: string, ext: string, max = 6): string[] {
  const dir = join(CORPUS_DIR, rel);
  let names: string[];
  try {
    names = readdirSync(dir)
      .filter((n) => n.endsWith(ext))
      .sort();
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const n of names) {
    const p = join(dir, n);
    if (statSync(p).size > MAX_CORPUS_SEED_BYTES) continue;
    const text = readFileSync(p, 'utf8');
    if (ext === '.json') {
      try {
        JSON.parse(text);
      } catch {
        continue;
      }
    }
    out.push(text);
    if (out.length >= max) break;
  }
  return out;
}

const def = (type: string): SourceDefinition<unknown> => {
  const d = registry.find((x) => x.type === type);
  if (d?.kind !== 'source') throw new Error(`no source ${type}`);
  return d as SourceDefinition<unknown>;
};

/** A file source over the case's bytes, through the source's own reader and mapper. */
function fileTarget(
  name: string,
  type: string,
  kind: DocKind,
  ext: string,
  seeds: string[],
  own: Record<string, unknown> = {},
): FuzzTarget {
  return {
    name,
    kind,
    seeds,
    async run(input) {
      const path = join(work, `case-${fileNo++}${ext}`);
      writeFileSync(path, input);
      try {
        const c = await collect(def(type), { url: path, ...own }, { now: NOW, common: { max_bad_ratio: 1 } });
        return { objects: c.items.map((i) => i.object), rejections: c.rejections };
      } finally {
        rmSync(path, { force: true });
      }
    },
  };
}

/** An HttpClient that answers every request with the case's bytes (the fuzz input boundary). */
function answering(body: string, contentType: string): HttpClient {
  return {
    async request(req): Promise<HttpResponse> {
      const bytes = Buffer.from(body);
      return {
        status: 200,
        headers: { 'content-type': contentType },
        url: req.url,
        body: (async function* () {
          yield bytes;
        })(),
        text: async () => body,
        json: async () => {
          const r = safeJsonParse(body);
          if (!r.ok)
            throw new StixgateError('STIXGATE_ERR_INPUT_PARSE', `response is not valid JSON (${r.reason})`, {
              reason: r.reason,
            });
          return r.value;
        },
        dump: async () => undefined,
      };
    },
  };
}

function abusechTarget(
  name: string,
  listKey: string,
  map: (rec: unknown, i: number, env: MapEnv) => MappedRecord,
  seeds: string[],
): FuzzTarget {
  return {
    name,
    kind: 'json',
    seeds,
    async run(input) {
      const list = await abusechQuery(answering(input, 'application/json'), {
        component: name,
        service: name,
        url: 'https://api.invalid/x',
        method: 'GET',
        authKey: 'k',
        listKey,
        signal: new AbortController().signal,
      });
      const env: MapEnv = { now: NOW_ISO, source: name, validDays: 30 };
      const out: MapOutcome = { objects: [], rejections: [] };
      list.forEach((rec, i) => {
        const m = map(rec, i, env);
        out.objects.push(...m.items.map((x) => x.object));
        if (m.rejection) out.rejections.push(m.rejection);
      });
      return out;
    },
  };
}

/** The MISP feed format: a feed folder whose one event file is the case. */
function mispFeedTarget(seeds: string[]): FuzzTarget {
  return {
    name: 'misp_feed',
    kind: 'json',
    seeds,
    async run(input) {
      const dir = join(work, `feed-${fileNo++}`);
      const uuid = '5f0c4a52-3b0c-4c44-9d2e-1e0f4e6f7a01';
      mkdirSync(dir);
      writeFileSync(
        join(dir, 'manifest.json'),
        JSON.stringify({ [uuid]: { info: 'fuzz', timestamp: '1767225600', date: '2026-01-01' } }),
      );
      writeFileSync(join(dir, `${uuid}.json`), input);
      try {
        const c = await collect(
          def('misp_feed'),
          { url: `file://${dir}/` },
          { now: NOW, common: { max_bad_ratio: 1 } },
        );
        return { objects: c.items.map((i) => i.object), rejections: c.rejections };
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

export function targets(): FuzzTarget[] {
  const mispTable = loadMispTable(MAPPINGS);
  const otxTable = loadOtxTypes(MAPPINGS);
  const mispSeeds = [
    seed('misp-event.json'),
    readFileSync(join(PROJECT_ROOT, 'test', 'fixtures', 'misp', 'event-all-types.json'), 'utf8'),
    ...corpusSeeds('pymisp/mispevent_testfiles', '.json', 4),
  ];
  return [
    fileTarget('text_list', 'text_list', 'lines', '.txt', [
      seed('list.txt'),
      ...corpusSeeds('ip-lists-et-tor', '.txt', 1),
    ]),
    fileTarget('csv', 'csv', 'lines', '.csv', [seed('feed.csv')], {
      columns: { value: 'value', type: 'auto', labels: ['tags'], first_seen: 'first_seen' },
    }),
    fileTarget('stix_bundle_2.1', 'stix_bundle', 'json', '.json', [
      seed('bundle-21.json'),
      ...corpusSeeds('stix2-cti-documentation/example_json', '.json', 5),
    ]),
    fileTarget('stix_bundle_2.0', 'stix_bundle', 'json', '.json', [seed('bundle-20.json')]),
    {
      name: 'taxii21',
      kind: 'json',
      seeds: [seed('taxii-envelope.json')],
      async run(input) {
        const client = new TaxiiClient(
          answering(input, 'application/taxii+json;version=2.1'),
          'taxii21',
          'https://taxii.invalid/api/',
          undefined,
        );
        const col = { id: 'c', title: 'c', canRead: true, url: 'https://taxii.invalid/api/collections/c/' };
        const out: MapOutcome = { objects: [], rejections: [] };
        const pages = pollCollection(client, col, undefined, {
          component: 'taxii21',
          pageSize: 100,
          matchTypes: [],
          specVersions: [],
          maxPages: 2,
          maxSkewSecs: 300,
          now: NOW,
          signal: new AbortController().signal,
          warn: () => undefined,
        });
        for await (const p of pages) {
          out.objects.push(...p.items.map((i) => i.object));
          out.rejections.push(...p.rejections);
        }
        return out;
      },
    },
    mispFeedTarget(mispSeeds),
    {
      name: 'misp_api',
      kind: 'json',
      seeds: [seed('misp-restsearch.json'), ...mispSeeds.slice(0, 2)],
      async run(input) {
        const out: MapOutcome = { objects: [], rejections: [] };
        for (const ev of eventsOf(parseMispJson(input, '/events/restSearch', 'misp_api'))) {
          const r = mapEvent(ev, { now: NOW_ISO, table: mispTable, name: 'misp_api', labels: ['fuzz'] });
          out.objects.push(...r.items.map((i) => i.object));
          out.rejections.push(...r.rejections);
        }
        return out;
      },
    },
    {
      name: 'otx',
      kind: 'json',
      seeds: [seed('otx-pulses.json')],
      async run(input) {
        const r = safeJsonParse(input);
        if (!r.ok) throw new StixgateError('STIXGATE_ERR_INPUT_PARSE', r.message, { reason: r.reason });
        const doc = r.value as { results?: unknown } | null;
        const results = doc && typeof doc === 'object' && Array.isArray(doc.results) ? doc.results : [];
        const out: MapOutcome = { objects: [], rejections: [] };
        results.forEach((p, i) => {
          const m = mapPulse(p, i, { now: NOW_ISO, source: 'otx', table: otxTable, validDays: 30 });
          out.objects.push(...m.items.map((x) => x.object));
          out.rejections.push(...m.rejections);
        });
        return out;
      },
    },
    abusechTarget('abusech_urlhaus', 'urls', mapUrlhausUrl, [seed('urlhaus.json')]),
    abusechTarget('abusech_threatfox', 'data', mapThreatfoxIoc, [seed('threatfox.json')]),
    abusechTarget('abusech_malwarebazaar', 'data', mapBazaarSample, [seed('malwarebazaar.json')]),
    fileTarget('cisa_kev', 'cisa_kev', 'json', '.json', [seed('kev.json')]),
    fileTarget('stix1', 'stix1', 'xml', '.xml', [
      seed('stix1-diamond.xml'),
      readFileSync(join(PROJECT_ROOT, 'test', 'fixtures', 'xml', 'stix1-package.xml'), 'utf8'),
      ...corpusSeeds('stix-elevator-idioms/idioms-xml', '.xml', 6),
    ]),
    fileTarget('openioc', 'openioc', 'xml', '.ioc', [
      readFileSync(join(PROJECT_ROOT, 'test', 'fixtures', 'xml', 'openioc-1.1-conditions.ioc'), 'utf8'),
      ...corpusSeeds('openioc/fireeye-iocs-1.0/BlogPosts', '.ioc', 4),
    ]),
  ];
}
