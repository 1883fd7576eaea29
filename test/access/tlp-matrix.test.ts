import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { accessPolicy } from '../../src/access/policy.js';
import { validate } from '../../src/core/schema.js';
import { TLP_LEVELS, type StixObject, type TlpLevel } from '../../src/core/stix.js';
import { Correlator } from '../../src/correlate/index.js';
import { buildIndex } from '../../src/lookup/index.js';
import { recordsForChanges } from '../../src/delivery/select.js';
import { loadSinkMapping, recordKey } from '../../src/delivery/records.js';
import { contributionsOf } from '../../src/delivery/ledger.js';
import type { CommonSinkConfig, SinkRecord } from '../../src/delivery/types.js';
import { NO_DECAY_SCORING } from '../../src/score/model.js';
import { type buildServer, hashApiKey, serverSchema, taxiiSchema } from '../../src/server/index.js';
import { openEmbeddedStore } from '../../src/store/embedded/index.js';
import type { Change, Store } from '../../src/store/contract.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { PROJECT_ROOT } from '../helpers/corpus.js';
import { EdlLists, edlSchema } from '../../src/edl/index.js';
import { registry } from '../../integrations/index.js';
import { buildConfigSchema } from '../../src/config/config-schema.js';
import { closeSinkComponent, createSinkComponent, type SinkComponent } from '../../src/delivery/component.js';
import { adminWithoutDaemon } from '../helpers/admin-host.js';
import { SplunkSimulator } from '../../integrations/splunk/simulator.js';
import {
  CONFIDENCE,
  SOURCES,
  malwareId,
  matrixValues,
  objectsOf,
  ingestMatrixSource,
  visible,
  type Contribution,
  type MatrixValue,
} from './matrix-fixture.js';
import { must } from '../helpers/must.js';
import { quietServer } from '../server/helpers.js';
import { commonConfig } from '../helpers/sink-kit.js';

/**
 * The TLP matrix (docs/access.md): 5 sources × 5 TLP levels (36 values: every source at every
 * level, every pair of levels on one value, all five on one) × 6 readers (the anonymous caller and
 * one key per TLP ceiling) × every route that answers about objects (single and batch lookup, with
 * and without include_inactive,
 * related names, related objects, sightings by value and by id, firewall lists, /metrics, error
 * bodies, the console's pages), and every sink type's records at each ceiling. Each answer is compared with the contributions the reader
 * may see, and searched for the text of every contribution it may not see.
 */

const T0 = Date.parse('2026-03-01T00:00:00.000Z');
const VALUES = matrixValues();
const ACCESS = accessPolicy({ defaultTlp: 'amber', scoring: NO_DECAY_SCORING });
const UNKNOWN_ID = 'indicator--00000000-0000-4000-8000-00000000dead';
/** One TAXII collection up to RED, readable by every key and anonymously: each reader's own ceiling decides. */
const TAXII_COLLECTION = 'a1b2c3d4-0000-4000-8000-000000000001';
const TAXII_CONFIG = (() => {
  const r = validate(taxiiSchema, {
    api_roots: { default: { collections: { all: { id: TAXII_COLLECTION, max_tlp: 'red', anonymous_read: true } } } },
  });
  assert.ok(r.ok);
  return r.value;
})();
/** The ceilings a firewall list may have (TLP:RED is never listed). */
const LIST_TLPS = TLP_LEVELS.filter((l) => l !== 'red');

interface Reader {
  name: string;
  ceiling: TlpLevel;
  headers: Record<string, string>;
  sightings: boolean;
}
const READERS: Reader[] = [
  { name: 'anonymous', ceiling: 'clear', headers: {}, sightings: false },
  ...TLP_LEVELS.map((l) => ({
    name: `key-${l.replace('+', '-')}`,
    ceiling: l,
    headers: { authorization: `Bearer k-${l.replace('+', '-')}-0123456789abcdef` },
    sightings: true,
  })),
];
const METRICS_KEY = { authorization: 'Bearer k-metrics-0123456789abcdef' };

let assertions = 0;
function eq(actual: unknown, expected: unknown, msg: string): void {
  assertions++;
  assert.deepEqual(actual, expected, msg);
}
/** No text of a contribution the reader may not see appears in `body`. */
function noLeak(body: string, hidden: readonly Contribution[], msg: string): void {
  for (const c of hidden) {
    assertions++;
    assert.ok(!body.includes(c.tag), `${msg}: leaks ${c.tag}`);
  }
}
const hiddenOf = (v: MatrixValue, ceiling: TlpLevel) => v.contributions.filter((c) => !visible(v, ceiling).includes(c));
const allHidden = (ceiling: TlpLevel) => VALUES.flatMap((v) => hiddenOf(v, ceiling));
const rank = (l: TlpLevel) => TLP_LEVELS.indexOf(l);
const strictest = (cs: Contribution[]) => TLP_LEVELS[Math.max(...cs.map((c) => rank(c.tlp)))];
/** The score of the visible contributions alone (no decay): highest confidence + 10 per extra source. */
const scoreOf = (cs: Contribution[]) =>
  Math.min(100, Math.max(...cs.map((c) => CONFIDENCE[c.source])) + 10 * (cs.length - 1));

describe('TLP matrix: 5 sources × 5 levels × 6 readers × every route (lookup, related, sightings, search, deliveries, EDL, TAXII) and sink', () => {
  let dir: string;
  let store: Store & { close(): Promise<void> };
  let correlator: Correlator;
  let app: ReturnType<typeof buildServer>;
  let changes: Change[];
  /** The change log after the first source (src-a, the clear side of the inference case) ran alone. */
  let changesBefore: Change[];
  /** One Splunk KV sink per TLP ceiling (dry runs; reconcile plans read their empty collection from the simulator). */
  let sinks: SinkComponent[];
  let splunk: SplunkSimulator;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'stixgate-matrix-'));
    store = await openEmbeddedStore({ dataDir: join(dir, 'data') });
    for (const source of SOURCES) {
      await ingestMatrixSource(store, source, objectsOf(source, VALUES, T0), T0);
      if (source === 'src-a') changesBefore = (await store.changes(0, 100_000)).changes;
    }
    changes = (await store.changes(0, 100_000)).changes;
    const { index } = await buildIndex(store, { now: () => T0, access: ACCESS });
    correlator = new Correlator({ dataDir: ':memory:', access: ACCESS });
    await correlator.catchUp(store);
    const keys: Record<string, unknown> = {
      metrics: { hash: hashApiKey(METRICS_KEY.authorization.slice(7)), scopes: ['metrics'] },
    };
    for (const r of READERS)
      if (r.sightings)
        keys[r.name] = {
          hash: hashApiKey(must(r.headers.authorization, 'r.headers.authorization').slice(7)),
          scopes: ['lookup', 'sightings', 'search', 'edl', 'admin', 'taxii'],
          max_tlp: r.ceiling,
        };
    // one firewall list per TLP ceiling a list may have (never RED)
    const edlCfg = validate(edlSchema, {
      lists: Object.fromEntries(
        LIST_TLPS.map((l) => [`tlp-${l.replace('+', '-')}`, { format: 'plain', kinds: ['ip'], max_tlp: l }]),
      ),
    });
    assert.ok(edlCfg.ok);
    const lists = new EdlLists(store, edlCfg.value, { access: ACCESS, now: () => T0 });
    await lists.build();
    splunk = new SplunkSimulator({ users: { u: 'p' } });
    const { base } = await splunk.start();
    const sinkConfig = validate(buildConfigSchema(registry), {
      sinks: Object.fromEntries(
        TLP_LEVELS.map((l) => [
          `kv-${l.replace('+', '-')}`,
          { type: 'splunk_kv', url: base, auth: { username: 'u', password: 'p' }, max_tlp: l, allow_insecure: true },
        ]),
      ),
    });
    assert.ok(sinkConfig.ok, JSON.stringify(!sinkConfig.ok && sinkConfig.issues));
    sinks = Object.entries(sinkConfig.value.sinks).map(([id, c]) =>
      createSinkComponent(id, c as never, {
        registry,
        logger: silentLogger(),
        configDir: dir,
        mappingsDir: join(PROJECT_ROOT, 'mappings'),
        dataDir: join(dir, 'data'),
      }),
    );
    const cfg = validate(serverSchema, { anonymous_lookup: true, api_keys: keys, rate_limit: { enabled: false } });
    assert.ok(cfg.ok, JSON.stringify(!cfg.ok && cfg.issues));
    app = quietServer({
      config: cfg.value,
      index,
      store,
      now: () => T0,
      correlator,
      scoring: NO_DECAY_SCORING,
      access: ACCESS,
      edl: { lists, basicAuth: false },
      admin: adminWithoutDaemon({ store, sinks, access: ACCESS, now: () => T0 }),
      taxii: { config: TAXII_CONFIG, ingest: { allowRed: false, defaultTlp: 'amber' } },
    });
  });

  after(async () => {
    await app?.close();
    for (const c of sinks ?? []) await closeSinkComponent(c);
    await splunk?.close();
    await correlator?.close();
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the data: 36 values, 50 contributions, 5 sources at 5 levels each', () => {
    eq(VALUES.length, 36, 'values');
    eq(
      VALUES.reduce((n, v) => n + v.contributions.length, 0),
      50,
      'contributions',
    );
    for (const s of SOURCES)
      eq(
        new Set(VALUES.flatMap((v) => v.contributions.filter((c) => c.source === s).map((c) => c.tlp))).size,
        5,
        `${s} levels`,
      );
  });

  it('single lookups: matched, sources, labels, TLP and score from the visible contributions only', async () => {
    for (const r of READERS) {
      for (const v of VALUES) {
        const res = await app.inject({
          method: 'GET',
          url: `/api/v1/lookup?value=${v.value}&related=true`,
          headers: r.headers,
        });
        const where = `${r.name} GET ${v.value}`;
        eq(res.statusCode, 200, where);
        const body = res.json();
        const seen = visible(v, r.ceiling);
        eq(body.matched, seen.length > 0, `${where} matched`);
        if (seen.length > 0) {
          eq(body.indicators.length, 1, `${where} one indicator`);
          const m = body.indicators[0];
          eq(m.sources, seen.map((c) => c.source).sort(), `${where} sources`);
          eq(m.labels, seen.map((c) => `lbl-${c.tag}`).sort(), `${where} labels`);
          eq(m.tlp, strictest(seen), `${where} tlp`);
          eq(m.score, scoreOf(seen), `${where} score`);
          eq(body.related.malware, seen.map((c) => `mal-${c.tag}`).sort(), `${where} related names`);
        } else {
          eq(body.indicators, [], `${where} no indicators`);
        }
        noLeak(res.body, hiddenOf(v, r.ceiling), where);
      }
    }
  });

  it('batch lookups: one request per reader, each value answered as alone', async () => {
    for (const r of READERS) {
      const res = await app.inject({
        method: 'POST',
        url: '/api/v1/lookup',
        headers: r.headers,
        payload: { values: VALUES.map((v) => v.value), related: true },
      });
      eq(res.statusCode, 200, `${r.name} batch`);
      const results = res.json().results as { matched: boolean; indicators: { sources: string[]; tlp: string }[] }[];
      VALUES.forEach((v, i) => {
        const seen = visible(v, r.ceiling);
        eq(must(results[i], 'results[i]').matched, seen.length > 0, `${r.name} batch ${v.value} matched`);
        eq(
          must(results[i], 'results[i]').indicators.map((m) => [m.sources, m.tlp]),
          seen.length ? [[seen.map((c) => c.source).sort(), strictest(seen)]] : [],
          `${r.name} batch ${v.value} view`,
        );
      });
      noLeak(res.body, allHidden(r.ceiling), `${r.name} batch`);
    }
  });

  it('related objects: only through visible contributions; an invisible subject is a 404 like an unknown id', async () => {
    for (const r of READERS) {
      const unknown = await app.inject({
        method: 'GET',
        url: `/api/v1/objects/${UNKNOWN_ID}/related`,
        headers: r.headers,
      });
      for (const v of VALUES) {
        const res = await app.inject({
          method: 'GET',
          url: `/api/v1/objects/${v.indicatorId}/related`,
          headers: r.headers,
        });
        const where = `${r.name} related ${v.value}`;
        const seen = visible(v, r.ceiling);
        if (seen.length === 0) {
          eq(
            [res.statusCode, res.body, res.headers['content-length']],
            [unknown.statusCode, unknown.body, unknown.headers['content-length']],
            `${where}: answered as an unknown id`,
          );
          eq(res.statusCode, 404, where);
        } else {
          eq(res.statusCode, 200, where);
          const ids = (res.json().related as { id: string }[])
            .map((x) => x.id)
            .filter((id) => id.startsWith('malware--'))
            .sort();
          eq(ids, seen.map((c) => malwareId(c)).sort(), `${where} malware`);
          for (const c of hiddenOf(v, r.ceiling)) {
            assertions++;
            assert.ok(!res.body.includes(malwareId(c)), `${where}: leaks ${malwareId(c)}`);
          }
        }
        noLeak(res.body, hiddenOf(v, r.ceiling), where);
      }
    }
  });

  it('search and object routes: the visible indicators only, each with its visible sources, labels, TLP and score; an invisible object is a 404 like an unknown id', async () => {
    for (const r of READERS) {
      if (!r.sightings) {
        eq(
          (await app.inject({ method: 'GET', url: '/api/v1/objects?type=indicator', headers: r.headers })).statusCode,
          401,
          `${r.name} search needs a key`,
        );
        continue;
      }
      // small pages, so that every answer is a cursor hop
      const found = new Map<
        string,
        {
          x_stixgate: { sources: Record<string, unknown>; score: number };
          labels: string[];
          object_marking_refs: string[];
        }
      >();
      let cursor = '';
      let pages = 0;
      do {
        const res = await app.inject({
          method: 'GET',
          url: `/api/v1/objects?type=indicator&limit=7${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
          headers: r.headers,
        });
        eq(res.statusCode, 200, `${r.name} search page ${pages}`);
        const body = res.json();
        for (const o of body.objects) {
          eq(found.has(o.id), false, `${r.name} ${o.id} once`);
          found.set(o.id, o);
        }
        noLeak(res.body, allHidden(r.ceiling), `${r.name} search page ${pages}`);
        cursor = body.next ?? '';
        pages++;
      } while (cursor);
      const shown = VALUES.filter((v) => visible(v, r.ceiling).length > 0);
      eq([...found.keys()].sort(), shown.map((v) => v.indicatorId).sort(), `${r.name} search: the visible indicators`);
      for (const v of shown) {
        const seen = visible(v, r.ceiling);
        const o = must(found.get(v.indicatorId), 'found.get(v.indicatorId)');
        const where = `${r.name} search ${v.value}`;
        eq(Object.keys(o.x_stixgate.sources).sort(), seen.map((c) => c.source).sort(), `${where} sources`);
        // a view's labels are its content's (one visible source's) or, when reduced, every visible source's
        eq(
          o.labels.filter((l) => !seen.some((c) => l === `lbl-${c.tag}`)),
          [],
          `${where} labels`,
        );
        eq(o.x_stixgate.score, scoreOf(seen), `${where} score`);
      }
      // the label filter reads every visible contribution's labels, never a hidden one's
      for (const v of VALUES.filter((x) => x.contributions.length === 2)) {
        for (const c of v.contributions) {
          const res = await app.inject({
            method: 'GET',
            url: `/api/v1/objects?label=lbl-${c.tag}`,
            headers: r.headers,
          });
          eq(
            (res.json().objects as { id: string }[]).map((o) => o.id),
            visible(v, r.ceiling).includes(c) ? [v.indicatorId] : [],
            `${r.name} label=${c.tag}`,
          );
        }
      }
      // filters compare the view: a source or a TLP the reader does not see never matches
      for (const source of SOURCES) {
        const res = await app.inject({
          method: 'GET',
          url: `/api/v1/objects?type=indicator&source=${source}&limit=1000`,
          headers: r.headers,
        });
        eq(
          (res.json().objects as { id: string }[]).map((o) => o.id).sort(),
          shown
            .filter((v) => visible(v, r.ceiling).some((c) => c.source === source))
            .map((v) => v.indicatorId)
            .sort(),
          `${r.name} source=${source}`,
        );
      }
      for (const tlp of TLP_LEVELS) {
        const res = await app.inject({
          method: 'GET',
          url: `/api/v1/objects?type=indicator&tlp=${encodeURIComponent(tlp)}&limit=1000`,
          headers: r.headers,
        });
        eq(
          (res.json().objects as { id: string }[]).map((o) => o.id).sort(),
          shown
            .filter((v) => strictest(visible(v, r.ceiling)) === tlp)
            .map((v) => v.indicatorId)
            .sort(),
          `${r.name} tlp=${tlp}`,
        );
      }
      const unknown = await app.inject({ method: 'GET', url: `/api/v1/objects/${UNKNOWN_ID}`, headers: r.headers });
      for (const v of VALUES) {
        const res = await app.inject({ method: 'GET', url: `/api/v1/objects/${v.indicatorId}`, headers: r.headers });
        const seen = visible(v, r.ceiling);
        const where = `${r.name} object ${v.value}`;
        if (seen.length === 0)
          eq([res.statusCode, res.body], [404, unknown.body], `${where}: answered as an unknown id`);
        else {
          eq(res.statusCode, 200, where);
          eq(
            (res.json().provenance as { source: string; tlp: string }[]).map((p) => [p.source, p.tlp]),
            seen.map((c) => [c.source, c.tlp]).sort(),
            `${where} provenance`,
          );
        }
        noLeak(res.body, hiddenOf(v, r.ceiling), where);
      }
    }
  });

  it('sink records, every sink type at every max_tlp: only visible values, only their visible contributions; never a record for an invisible value', () => {
    const sinks = ['splunk_kv', 'splunk_es', 'splunk_hec', 'qradar', 'xsoar'];
    for (const type of sinks) {
      const mapping = loadSinkMapping(join(PROJECT_ROOT, 'mappings', 'sinks', `${type}.yaml`)).fields;
      for (const ceiling of TLP_LEVELS) {
        const config = commonConfig(type, {
          max_tlp: ceiling,
          timeout_secs: 5,
          retry: { max_attempts: 1, base_delay_secs: 1, max_delay_secs: 1 },
        });
        const recs = recordsForChanges(changes, config, mapping, T0, undefined, undefined, ACCESS);
        const byValue = new Map<string, SinkRecord>(recs.map((x) => [x.observable.value, x]));
        for (const v of VALUES) {
          const where = `${type} max_tlp ${ceiling} ${v.value}`;
          const seen = visible(v, ceiling);
          const rec = byValue.get(v.value);
          eq(rec === undefined ? 'none' : rec.op, seen.length ? 'upsert' : 'none', where);
          if (rec) {
            eq(rec.sources, seen.map((c) => c.source).sort(), `${where} sources`);
            eq(rec.tlp, strictest(seen), `${where} tlp`);
            eq(rec.score, scoreOf(seen), `${where} score`);
            noLeak(JSON.stringify(rec.fields), hiddenOf(v, ceiling), `${where} fields`);
          }
        }
      }
    }
  });

  it('sightings by value and by indicator id: an invisible indicator is answered as an unknown one', async () => {
    for (const r of READERS.filter((x) => x.sightings)) {
      const sightings = VALUES.flatMap((v) => [{ value: v.value }, { indicator_id: v.indicatorId }]);
      const unknown = await app.inject({
        method: 'POST',
        url: '/api/v1/sightings',
        headers: r.headers,
        payload: { sightings: [{ value: '10.9.9.9' }, { indicator_id: UNKNOWN_ID }] },
      });
      const u = unknown.json().unmatched as { reason: string }[];
      const res = await app.inject({
        method: 'POST',
        url: '/api/v1/sightings',
        headers: r.headers,
        payload: { sightings },
      });
      eq(res.statusCode, 200, `${r.name} sightings`);
      const body = res.json() as {
        recorded: { index: number; indicator_id: string }[];
        unmatched: { index: number; reason: string }[];
      };
      VALUES.forEach((v, i) => {
        const seen = visible(v, r.ceiling).length > 0;
        for (const [k, idx] of [
          ['value', 2 * i],
          ['id', 2 * i + 1],
        ] as const) {
          const rec = body.recorded.find((x) => x.index === idx);
          const miss = body.unmatched.find((x) => x.index === idx);
          eq(
            [rec?.indicator_id, miss?.reason],
            seen
              ? [v.indicatorId, undefined]
              : [undefined, must(u[k === 'value' ? 0 : 1], "u[k === 'value' ? 0 : 1]").reason],
            `${r.name} sighting by ${k} ${v.value}`,
          );
        }
      });
      noLeak(res.body, allHidden(r.ceiling), `${r.name} sightings`);
    }
  });

  it('firewall lists: each list is the view at its ceiling; a reader gets it only when its own ceiling is at or above it; anonymous never', async () => {
    for (const r of READERS) {
      for (const l of LIST_TLPS) {
        const res = await app.inject({ url: `/edl/tlp-${l.replace('+', '-')}/ip`, headers: r.headers });
        const where = `${r.name} list ${l}`;
        if (r.name === 'anonymous') eq(res.statusCode, 401, where);
        else if (rank(r.ceiling) < rank(l)) eq(res.statusCode, 403, where);
        else {
          eq(res.statusCode, 200, where);
          eq(
            res.body.split('\n').filter(Boolean).sort(),
            VALUES.filter((v) => visible(v, l).length > 0)
              .map((v) => v.value)
              .sort(),
            `${where} values`,
          );
        }
        for (const v of VALUES) {
          if (visible(v, r.ceiling).length > 0) continue;
          assertions++;
          assert.ok(!res.body.includes(`${v.value}\n`), `${where}: leaks ${v.value}`);
        }
      }
    }
  });

  it('TAXII objects (paged with next), manifest, object, versions: exactly the visible contributions; an invisible object is an unknown one', async () => {
    const base = `/taxii2/default/collections/${TAXII_COLLECTION}`;
    const taxii = (r: Reader, url: string) =>
      app.inject({ method: 'GET', url, headers: { ...r.headers, accept: 'application/taxii+json;version=2.1' } });
    for (const r of READERS) {
      const objects: StixObject[] = [];
      let next: string | undefined;
      let bodies = '';
      do {
        const res = await taxii(r, `${base}/objects/?limit=17${next ? `&next=${encodeURIComponent(next)}` : ''}`);
        eq(res.statusCode, 200, `${r.name} TAXII objects`);
        bodies += res.body;
        objects.push(...(res.json().objects ?? []));
        next = res.json().more ? res.json().next : undefined;
      } while (next);
      const manifest = await taxii(r, `${base}/manifest/?limit=1000`);
      eq(
        manifest.json().objects?.map((m: { id: string }) => m.id) ?? [],
        objects.map((o) => o.id),
        `${r.name} manifest lists the objects`,
      );
      const byId = new Map(objects.map((o) => [o.id, o]));
      eq(byId.size, objects.length, `${r.name} no repeats`);
      const unknown = await taxii(r, `${base}/objects/${UNKNOWN_ID}/`);
      for (const v of VALUES) {
        const where = `${r.name} TAXII ${v.value}`;
        const seen = visible(v, r.ceiling);
        const ind = byId.get(v.indicatorId);
        eq(ind === undefined ? 'absent' : 'present', seen.length ? 'present' : 'absent', where);
        if (ind) {
          eq(
            Object.keys(must(ind.x_stixgate, 'ind.x_stixgate').sources).sort(),
            seen.map((c) => c.source).sort(),
            `${where} sources`,
          );
          const allowed = new Set(seen.map((c) => `lbl-${c.tag}`));
          eq(
            (ind.labels ?? []).filter((l: string) => !allowed.has(l)),
            [],
            `${where} labels of visible contributions only`,
          );
          eq((ind.labels ?? []).length > 0, true, `${where} labelled`);
        }
        for (const c of v.contributions) eq(byId.has(malwareId(c)), seen.includes(c), `${where} malware of ${c.tag}`);
        for (const path of [`${base}/objects/${v.indicatorId}/`, `${base}/objects/${v.indicatorId}/versions/`]) {
          const one = await taxii(r, path);
          if (seen.length === 0)
            eq(
              [one.statusCode, one.body],
              [unknown.statusCode, unknown.body],
              `${where} ${path}: answered as an unknown id`,
            );
          else eq(one.statusCode, 200, `${where} ${path}`);
          noLeak(one.body, hiddenOf(v, r.ceiling), `${where} ${path}`);
        }
      }
      noLeak(bodies + manifest.body, allHidden(r.ceiling), `${r.name} TAXII pages`);
    }
  });

  it('/metrics: no value, no contribution text in any label; hits counted as the readers saw them', async () => {
    const res = await app.inject({ method: 'GET', url: '/metrics', headers: METRICS_KEY });
    eq(res.statusCode, 200, 'metrics');
    for (const v of VALUES) {
      assertions++;
      assert.ok(!res.body.includes(v.value), `metrics name ${v.value}`);
      noLeak(res.body, v.contributions, 'metrics');
    }
    // single and batch lookups: a value an reader cannot see is a miss, never a hit
    const hits = READERS.reduce((n, r) => n + VALUES.filter((v) => visible(v, r.ceiling).length > 0).length, 0);
    const hit = /stixgate_lookup_values_total\{result="hit"\} (\d+)/.exec(res.body);
    eq(Number(hit?.[1]), 2 * hits, 'hits = what the readers saw (single + batch)');
  });

  it('admin API: store statistics are counts only, the same for every ceiling; a dry run shows a caller only the sample records at or below its ceiling', async () => {
    const keyed = READERS.filter((r) => r.sightings);
    const stats = await Promise.all(
      keyed.map((r) => app.inject({ method: 'GET', url: '/api/v1/admin/stats', headers: r.headers })),
    );
    for (const [i, res] of stats.entries()) {
      eq(res.statusCode, 200, `${must(keyed[i], 'keyed[i]').name} stats`);
      eq(
        res.body,
        must(stats[0], 'stats[0]').body,
        `${must(keyed[i], 'keyed[i]').name} stats equal every other ceiling's`,
      );
      for (const v of VALUES) {
        assertions++;
        assert.ok(!res.body.includes(v.value), `stats name ${v.value}`);
        noLeak(res.body, v.contributions, `${must(keyed[i], 'keyed[i]').name} stats`);
      }
    }
    let cut = 0;
    for (const sink of sinks) {
      const url = `/api/v1/admin/sinks/${sink.id}/push?dry_run=true`;
      const red = await app.inject({
        method: 'POST',
        url,
        headers: must(
          READERS.find((r) => r.ceiling === 'red'),
          "READERS.find((r) => r.ceiling === 'red')",
        ).headers,
      });
      const all = red.json().samples as { value: string; tlp: TlpLevel }[];
      eq(all.length, 10, `${sink.id}: ten sample records`);
      for (const r of keyed) {
        const res = await app.inject({ method: 'POST', url, headers: r.headers });
        const where = `${r.name} dry run of ${sink.id}`;
        eq(res.statusCode, 200, where);
        const body = res.json();
        eq(body.summary, red.json().summary, `${where}: counts are the sink's`);
        eq(
          body.samples,
          all.filter((x) => rank(x.tlp) <= rank(r.ceiling)),
          `${where}: samples within the ceiling`,
        );
        if (body.samples.length < all.length) cut++;
        for (const x of body.samples as { value: string; tlp: TlpLevel }[]) {
          const v = must(
            VALUES.find((y) => y.value === x.value),
            'VALUES.find((y) => y.value === x.value)',
          );
          eq(x.tlp, strictest(visible(v, sink.config.max_tlp as TlpLevel)), `${where} ${x.value}: the sink view's TLP`);
        }
        noLeak(res.body, allHidden(r.ceiling), where);
      }
    }
    assert.ok(cut >= 10, `samples were cut to the caller's ceiling ${cut} times`);
  });

  it("delivery ledger (GET /api/v1/deliveries, lookups with deliveries=true, the console's why page): a row shows the contributions the reader may see with their TLP, a score only when it sees them all, nothing when it sees none", async () => {
    // every value recorded as present in one sink, behind all of its stored contributions
    for (const v of VALUES) {
      const obj = must(
        (await store.query({ value: v.value })).objects[0],
        '(await store.query({ value: v.value })).objects[0]',
      );
      await must(store.commitDeliveries, 'store.commitDeliveries').call(
        store,
        'ledger-sink',
        [
          {
            key: recordKey({ type: 'ipv4-addr', value: v.value }),
            state: 'present',
            reason: 'pushed',
            seq: 1,
            score: 55,
            threshold: 0,
            contributions: contributionsOf(obj, ACCESS),
          },
        ],
        undefined,
        T0,
      );
    }
    for (const r of READERS) {
      for (const v of VALUES) {
        const res = await app.inject({ method: 'GET', url: `/api/v1/deliveries?value=${v.value}`, headers: r.headers });
        const where = `${r.name} deliveries ${v.value}`;
        eq(res.statusCode, 200, where);
        const seen = visible(v, r.ceiling);
        const body = res.json() as {
          deliveries: {
            sink: string;
            state: string;
            sources: { source: string; tlp: string }[];
            score: number | null;
          }[];
        };
        if (seen.length === 0) eq(body.deliveries, [], `${where} nothing`);
        else {
          eq(
            body.deliveries.map((d) => [d.sink, d.state]),
            [['ledger-sink', 'present']],
            `${where} the row`,
          );
          eq(
            must(body.deliveries[0], 'body.deliveries[0]').sources,
            seen.map((c) => ({ source: c.source, tlp: c.tlp })).sort((a, b) => a.source.localeCompare(b.source)),
            `${where} sources`,
          );
          eq(
            must(body.deliveries[0], 'body.deliveries[0]').score,
            seen.length === v.contributions.length ? 55 : null,
            `${where} score`,
          );
        }
        noLeak(res.body, hiddenOf(v, r.ceiling), where);
        // the same entries in a lookup answer with deliveries=true
        const lookup = await app.inject({
          method: 'GET',
          url: `/api/v1/lookup?value=${v.value}&deliveries=true`,
          headers: r.headers,
        });
        eq(lookup.json().deliveries, body.deliveries, `${where} lookup deliveries=true`);
        // the console's why page: the same rows, a key needed (no anonymous console)
        const page = await app.inject({
          url: `/console/why?value=${v.value}`,
          headers: { ...r.headers, accept: 'text/html' },
        });
        if (!r.sightings) {
          eq(page.statusCode, 401, `${where} console`);
          continue;
        }
        eq(page.statusCode, 200, `${where} console`);
        const rows = [...page.body.matchAll(/<tr class="delivery">(.*?)<\/tr>/gs)].map((m) =>
          [...must(m[1], 'm[1]').matchAll(/<span class="value">([^<]+)<\/span>/g)].map((x) => x[1]),
        );
        eq(rows, seen.length ? [seen.map((c) => c.source).sort()] : [], `${where} console rows`);
        noLeak(page.body, hiddenOf(v, r.ceiling), `${where} console`);
      }
      const batch = await app.inject({
        method: 'POST',
        url: '/api/v1/lookup',
        headers: r.headers,
        payload: { values: VALUES.map((v) => v.value), deliveries: true },
      });
      eq(batch.statusCode, 200, `${r.name} batch deliveries=true`);
      const entries = (batch.json().results as { deliveries: { sources: { source: string }[] }[] }[]).map((x) =>
        x.deliveries.map((d) => d.sources.map((c) => c.source)),
      );
      eq(
        entries,
        VALUES.map((v) =>
          visible(v, r.ceiling).length
            ? [
                visible(v, r.ceiling)
                  .map((c) => c.source)
                  .sort(),
              ]
            : [],
        ),
        `${r.name} batch deliveries=true`,
      );
      noLeak(batch.body, allHidden(r.ceiling), `${r.name} batch deliveries=true`);
    }
  });

  it("admin API and the console's plan page: a reconcile plan lists a caller only the entries at or below its ceiling; its counts are the sink's", async () => {
    const keyed = READERS.filter((r) => r.sightings);
    let cut = 0;
    for (const sink of sinks) {
      const url = `/api/v1/admin/sinks/${sink.id}/plan?limit=10000`;
      const red = await app.inject({
        method: 'GET',
        url,
        headers: must(
          READERS.find((r) => r.ceiling === 'red'),
          "READERS.find((r) => r.ceiling === 'red')",
        ).headers,
      });
      eq(red.statusCode, 200, `${sink.id} plan`);
      const all = red.json().result.items.missing as { label: string; tlp: TlpLevel }[];
      eq(all.length, red.json().result.counts.missing, `${sink.id}: an empty collection misses every expected value`);
      for (const x of all) {
        const v = must(
          VALUES.find((y) => x.label.endsWith(` ${y.value}`)),
          'VALUES.find((y) => x.label.endsWith(` ${y.value}`))',
        );
        eq(x.tlp, strictest(visible(v, sink.config.max_tlp as TlpLevel)), `${sink.id} ${v.value}: the sink view's TLP`);
      }
      for (const r of keyed) {
        const res = await app.inject({ method: 'GET', url, headers: r.headers });
        const where = `${r.name} plan of ${sink.id}`;
        eq(res.statusCode, 200, where);
        const body = res.json();
        eq(body.result.counts, red.json().result.counts, `${where}: counts are the sink's`);
        eq(
          body.result.items.missing,
          all.filter((x) => rank(x.tlp) <= rank(r.ceiling)),
          `${where}: entries within the ceiling`,
        );
        if (body.result.items.missing.length < all.length) cut++;
        for (const x of body.result.items.missing as { label: string }[]) {
          const v = must(
            VALUES.find((y) => x.label.endsWith(` ${y.value}`)),
            'VALUES.find((y) => x.label.endsWith(` ${y.value}`))',
          );
          assert.ok(visible(v, r.ceiling).length > 0, `${where}: ${v.value} is visible to the caller`);
        }
        noLeak(res.body, allHidden(r.ceiling), where);
        // the console's plan page: the same entries (fewer than its 50 a kind), the same cut
        const page = await app.inject({
          url: `/console/sinks/${sink.id}/plan`,
          headers: { ...r.headers, accept: 'text/html' },
        });
        eq(page.statusCode, 200, `${where} console`);
        const table = /<table class="plan-missing">.*?<\/table>/s.exec(page.body)?.[0] ?? '';
        eq(
          [...table.matchAll(/<td class="value">([^<]+)<\/td>/g)].map((m) => m[1]),
          body.result.items.missing.map((x: { label: string }) => x.label),
          `${where} console entries`,
        );
        noLeak(page.body, allHidden(r.ceiling), `${where} console`);
        // its Plan button (the POST form; a header key needs no CSRF token): the same page
        const posted = await app.inject({
          method: 'POST',
          url: `/console/sinks/${sink.id}/plan`,
          headers: { ...r.headers, accept: 'text/html', 'content-type': 'application/x-www-form-urlencoded' },
          payload: '',
        });
        eq(posted.statusCode, 200, `${where} console POST`);
        eq(
          /<table class="plan-missing">.*?<\/table>/s.exec(posted.body)?.[0] ?? '',
          table,
          `${where} console POST entries`,
        );
        noLeak(posted.body, allHidden(r.ceiling), `${where} console POST`);
      }
    }
    assert.ok(cut >= 10, `plans were cut to the caller's ceiling ${cut} times`);
  });

  it('the inference case: a RED source joining never hides a CLEAR value from CLEAR readers and sinks', async () => {
    const v = must(
      VALUES.find((x) => x.value === '10.1.0.4'),
      "VALUES.find((x) => x.value === '10.1.0.4')",
    );
    eq(
      v.contributions.map((c) => c.tlp),
      ['clear', 'red'],
      'clear + red',
    );
    const res = await app.inject({ method: 'GET', url: `/api/v1/lookup?value=${v.value}` });
    eq(res.json().indicators[0].sources, ['src-a'], 'anonymous sees the clear source');
    const ownChanges = [changesBefore, changes].map((log) =>
      must(
        log.find((c) => c.id === v.indicatorId),
        'log.find((c) => c.id === v.indicatorId)',
      ),
    );
    eq(
      ownChanges.map((c) => Object.keys(must(c.object.x_stixgate, 'c.object.x_stixgate').sources)),
      [['src-a'], ['src-a', 'src-b']],
      'created by the clear source, then the red one joined',
    );
    eq(must(ownChanges[1], 'ownChanges[1]').seq > must(ownChanges[0], 'ownChanges[0]').seq, true, 'a later change');
    const config = {
      type: 'x',
      max_tlp: 'clear',
      filters: { types: [], min_score: 0, labels: [], exclude_labels: [], sources: [] },
    } as unknown as CommonSinkConfig;
    for (const c of ownChanges) {
      const recs = recordsForChanges([c], config, { v: 'value', d: 'description' }, T0, undefined, undefined, ACCESS);
      eq(
        recs.map((x) => [x.op, x.sources, x.tlp]),
        [['upsert', ['src-a'], 'clear']],
        `change ${c.seq}: still an upsert with the clear source`,
      );
      noLeak(JSON.stringify(recs), [must(v.contributions[1], 'v.contributions[1]')], `change ${c.seq}`);
    }
  });

  it('console pages (search, object, sources, sinks): the visible indicators with their visible sources only; an invisible object is a 404 like an unknown id', async () => {
    const page = (r: Reader, url: string) => app.inject({ url, headers: { ...r.headers, accept: 'text/html' } });
    for (const r of READERS) {
      if (!r.sightings) {
        eq((await page(r, '/console/search')).statusCode, 401, `${r.name} console needs a key`);
        continue;
      }
      const res = await page(r, '/console/search?type=indicator');
      eq(res.statusCode, 200, `${r.name} console search`);
      const linked = [...res.body.matchAll(/href="\/console\/objects\/([^"]+)"/g)]
        .map((m) => decodeURIComponent(must(m[1], 'm[1]')))
        .sort();
      eq(
        linked,
        VALUES.filter((v) => visible(v, r.ceiling).length > 0)
          .map((v) => v.indicatorId)
          .sort(),
        `${r.name} console search: the visible indicators`,
      );
      noLeak(res.body, allHidden(r.ceiling), `${r.name} console search`);
      const unknown = await page(r, `/console/objects/${UNKNOWN_ID}`);
      for (const v of VALUES) {
        const one = await page(r, `/console/objects/${v.indicatorId}`);
        const seen = visible(v, r.ceiling);
        const where = `${r.name} console object ${v.value}`;
        if (seen.length === 0)
          eq([one.statusCode, one.body], [404, unknown.body], `${where}: answered as an unknown id`);
        else {
          eq(one.statusCode, 200, where);
          const prov = /<table id="provenance">.*?<\/table>/s.exec(one.body)?.[0] ?? '';
          eq(
            [...prov.matchAll(/<td class="value">([^<]+)<\/td>/g)].map((m) => m[1]),
            seen.map((c) => c.source).sort(),
            `${where} provenance`,
          );
        }
        noLeak(one.body, hiddenOf(v, r.ceiling), where);
      }
      for (const url of ['/console/sources', '/console/sinks']) {
        const ops = await page(r, url);
        eq(ops.statusCode, 200, `${r.name} ${url}`);
        noLeak(
          ops.body,
          VALUES.flatMap((v) => v.contributions),
          `${r.name} ${url}`,
        );
      }
    }
  });

  it('include_inactive (single and batch): revoked indicators only through visible contributions, never as hits', async () => {
    // every source revokes its contributions a day later; a fresh index over the store serves no hit
    for (const source of SOURCES) {
      const revoked = objectsOf(source, VALUES, T0)
        .filter((o) => o.type === 'indicator')
        .map((o) => ({
          ...o,
          revoked: true,
          modified: new Date(Date.parse(o.modified as string) + 86_400_000).toISOString(),
        }));
      await ingestMatrixSource(store, source, revoked, T0);
    }
    const { index } = await buildIndex(store, { now: () => T0, access: ACCESS });
    const keys: Record<string, unknown> = {};
    for (const r of READERS)
      if (r.sightings)
        keys[r.name] = {
          hash: hashApiKey(must(r.headers.authorization, 'r.headers.authorization').slice(7)),
          scopes: ['lookup'],
          max_tlp: r.ceiling,
        };
    const cfg = validate(serverSchema, { anonymous_lookup: true, api_keys: keys, rate_limit: { enabled: false } });
    assert.ok(cfg.ok);
    const app2 = quietServer({
      config: cfg.value,
      index,
      store,
      now: () => T0,
      access: ACCESS,
    });
    try {
      type Inactive = { state: string; sources: string[]; tlp: string; labels: string[] };
      const check = (
        v: MatrixValue,
        r: Reader,
        body: { matched: boolean; indicators: unknown[]; inactive: Inactive[] },
        where: string,
      ) => {
        const seen = visible(v, r.ceiling);
        eq(body.matched, false, `${where} never a hit`);
        eq(body.indicators, [], `${where} no indicators`);
        eq(
          body.inactive.map((m) => [m.state, m.sources, m.tlp]),
          seen.length ? [['revoked', seen.map((c) => c.source).sort(), strictest(seen)]] : [],
          `${where} inactive view`,
        );
        if (seen.length)
          eq(
            must(body.inactive[0], 'body.inactive[0]').labels,
            seen.map((c) => `lbl-${c.tag}`).sort(),
            `${where} labels`,
          );
      };
      for (const r of READERS) {
        for (const v of VALUES) {
          const res = await app2.inject({
            method: 'GET',
            url: `/api/v1/lookup?value=${v.value}&include_inactive=true`,
            headers: r.headers,
          });
          check(v, r, res.json(), `${r.name} GET inactive ${v.value}`);
          noLeak(res.body, hiddenOf(v, r.ceiling), `${r.name} GET inactive ${v.value}`);
        }
        const res = await app2.inject({
          method: 'POST',
          url: '/api/v1/lookup',
          headers: r.headers,
          payload: { values: VALUES.map((v) => v.value), include_inactive: true },
        });
        for (const [i, v] of VALUES.entries())
          check(v, r, res.json().results[i], `${r.name} batch inactive ${v.value}`);
        noLeak(res.body, allHidden(r.ceiling), `${r.name} batch inactive`);
      }
    } finally {
      await app2.close();
    }
  });

  it('counts at least 500 assertions', (t) => {
    assert.ok(assertions >= 500, `only ${assertions} assertions`);
    t.diagnostic(`TLP matrix: ${assertions} assertions`);
  });
});
