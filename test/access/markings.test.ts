import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  AIS_EXTENSION_ID,
  ATTACK_STATEMENT_ID,
  ISA_EXTENSION_ID,
  TLP2_EXTENSION_ID,
  classifyDefinition,
  readMarkings,
  tlpMarkingDefinition,
} from '../../src/access/markings.js';
import { TLP_LEVELS, TLP_MARKING_BY_LEVEL, type StixObject } from '../../src/core/stix.js';
import { LookupIndex } from '../../src/lookup/index.js';
import type { CommonSourceConfig } from '../../src/pipeline/types.js';
import { openEmbeddedStore } from '../../src/store/embedded/index.js';
import { Metrics } from '../../src/telemetry/metrics.js';
import { MAPPINGS_DIR } from '../../src/paths.js';
import { collectXmlSource } from '../helpers/xml-source.js';
import { eventsOf, mapEvent } from '../../integrations/misp/map.js';
import { loadMispTable } from '../../integrations/misp/table.js';
import { PROJECT_ROOT } from '../helpers/corpus.js';
import { VALIDATOR_SKIP, assertValidStix } from '../helpers/validator.js';
import { ingestPage } from '../helpers/offline-run.js';
import { must } from '../helpers/must.js';

const FIXTURES = join(PROJECT_ROOT, 'test', 'fixtures', 'markings');
const T0 = Date.parse('2026-03-01T00:00:00.000Z');
const TLP1_GREEN = 'marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da';
const TLP1_AMBER = 'marking-definition--f88d31f6-486f-44da-b317-01333bde0b82';
const TLP1_WHITE = 'marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9';
const IND_GREEN = 'indicator--a1a1a1a1-a1a1-41a1-81a1-a1a1a1a1a1a1';
const IND_SECRET = 'indicator--b2b2b2b2-b2b2-42b2-82b2-b2b2b2b2b2b2';
const IND_WHITE = 'indicator--c3c3c3c3-c3c3-43c3-83c3-c3c3c3c3c3c3';

const def = (extra: Partial<StixObject>): StixObject => ({
  type: 'marking-definition',
  spec_version: '2.1',
  id: 'marking-definition--5a5a5a5a-5a5a-45a5-85a5-5a5a5a5a5a5a',
  created: '2024-01-01T00:00:00.000Z',
  ...extra,
});

/** Maps objects into an embedded store as source `src` (the runner: markings → contribution TLPs) and returns what it stored. */
async function ingest(objects: StixObject[], over: Partial<CommonSourceConfig> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'stixgate-markings-'));
  const store = await openEmbeddedStore({ dataDir: dir });
  const metrics = new Metrics({ defaults: false });
  try {
    const sum = await ingestPage({ id: 'src', objects, store, metrics, now: () => T0, config: over });
    const stored = new Map<string, StixObject>();
    for (const c of (await store.changes(0, 10_000)).changes) stored.set(c.id, c.object);
    const unreadable = (
      await must(
        metrics.registry.getSingleMetric('stixgate_source_markings_unreadable_total'),
        "metrics.registry.getSingleMetric('stixgate_source_marking...",
      ).get()
    ).values.reduce((n, v) => n + v.value, 0);
    return { sum, stored, unreadable };
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const tlpOf = (o: StixObject | undefined) => o?.x_stixgate?.sources.src?.tlp;

describe('markings: what a marking-definition says', () => {
  it('TLP ids (1.0 and 2.0), tlp definitions and the TLP 2.0 extension are TLPs', () => {
    assert.deepEqual(classifyDefinition(tlpMarkingDefinition('amber+strict')), { kind: 'tlp', tlp: 'amber+strict' });
    assert.deepEqual(classifyDefinition(def({ definition_type: 'tlp', definition: { tlp: 'white' } })), {
      kind: 'tlp',
      tlp: 'clear',
    });
    assert.deepEqual(
      classifyDefinition(
        def({
          name: 'TLP:GREEN',
          extensions: { [TLP2_EXTENSION_ID]: { extension_type: 'property-extension', tlp_2_0: 'green' } },
        }),
      ),
      { kind: 'tlp', tlp: 'green' },
    );
    for (const l of TLP_LEVELS)
      assert.deepEqual(readMarkings({ type: 'x', id: 'x--1', object_marking_refs: [TLP_MARKING_BY_LEVEL[l]] }), {
        tlp: l,
        unreadable: [],
      });
    assert.deepEqual(
      readMarkings({ type: 'x', id: 'x--1', object_marking_refs: [TLP1_WHITE, TLP1_AMBER] }),
      { tlp: 'amber', unreadable: [] },
      'the strictest of several',
    );
  });

  it('statements (the ATT&CK copyright), ISA and AIS markings without a TLP are readable, never a TLP', () => {
    const attack = def({
      id: ATTACK_STATEMENT_ID,
      definition_type: 'statement',
      definition: { statement: 'Copyright 2015-2024, The MITRE Corporation.' },
    });
    assert.deepEqual(classifyDefinition(attack), { kind: 'other' });
    assert.deepEqual(
      readMarkings({ type: 'attack-pattern', id: 'attack-pattern--1', object_marking_refs: [ATTACK_STATEMENT_ID] }),
      { unreadable: [] },
      'well known even without its definition',
    );
    assert.deepEqual(
      classifyDefinition(
        def({ extensions: { [ISA_EXTENSION_ID]: { extension_type: 'property-extension', identifier: 'isa:x' } } }),
      ),
      { kind: 'other' },
    );
    assert.deepEqual(
      classifyDefinition(
        def({
          extensions: {
            [AIS_EXTENSION_ID]: { extension_type: 'property-extension', consent: 'everyone', is_proprietary: false },
          },
        }),
      ),
      { kind: 'other' },
    );
    assert.deepEqual(
      classifyDefinition(
        def({
          extensions: { [AIS_EXTENSION_ID]: { extension_type: 'property-extension', consent: 'usg', tlp: 'amber' } },
        }),
      ),
      { kind: 'tlp', tlp: 'amber' },
    );
  });

  it('anything else is unreadable: an unknown id, definition type or extension, a TLP that does not parse', () => {
    assert.equal(
      classifyDefinition(def({ definition_type: 'acme-secret', definition: { level: 3 } })).kind,
      'unreadable',
    );
    assert.equal(
      classifyDefinition(
        def({
          extensions: {
            'extension-definition--00000000-0000-4000-8000-000000000009': { extension_type: 'property-extension' },
          },
        }),
      ).kind,
      'unreadable',
    );
    assert.equal(classifyDefinition(def({ definition_type: 'tlp', definition: { tlp: 'purple' } })).kind, 'unreadable');
    assert.equal(classifyDefinition(def({})).kind, 'unreadable');
    const r = readMarkings({
      type: 'x',
      id: 'x--1',
      object_marking_refs: [TLP1_GREEN, 'marking-definition--00000000-0000-4000-8000-00000000beef'],
    });
    assert.deepEqual(r, {
      tlp: 'green',
      unreadable: [
        { ref: 'marking-definition--00000000-0000-4000-8000-00000000beef', reason: 'unknown marking-definition' },
      ],
    });
  });
});

describe('markings: STIX 1.x AIS, ISA and TLP markings arrive on the objects and in their contributions', () => {
  it('maps AIS (TLP and flags as data), ISA (CISA extension) and fails an unreadable structure closed', async () => {
    const { objects } = await collectXmlSource('stix1', join(FIXTURES, 'ais-isa-package.xml'));
    const byId = new Map(objects.map((o) => [o.id, o]));
    const defs = objects.filter((o) => o.type === 'marking-definition');
    const ais = defs.find((d) => d.extensions?.[AIS_EXTENSION_ID]);
    assert.deepEqual(ais?.extensions?.[AIS_EXTENSION_ID], {
      extension_type: 'property-extension',
      is_proprietary: false,
      cisa_proprietary: false,
      consent: 'everyone',
      tlp: 'amber',
    });
    assert.match(String(ais?.name), /AIS: consent everyone, not proprietary, CISA proprietary false, TLP:AMBER/);
    const isa = defs
      .filter((d) => d.extensions?.[ISA_EXTENSION_ID])
      .map((d) => must(d.extensions, 'd.extensions')[ISA_EXTENSION_ID]);
    assert.deepEqual(isa, [
      {
        extension_type: 'property-extension',
        identifier: 'isa:guide.19001.7a0e7c1d-2b3c-4d5e-8f90-a1b2c3d4e5f6',
        create_date_time: '2024-03-01T00:00:00.000Z',
        responsible_entity_custodian: 'USA.DHS.US-CERT',
        responsible_entity_originator: 'USA.DHS.US-CERT',
      },
      {
        extension_type: 'property-extension',
        policy_reference: 'urn:isa:policy:acs:ns:v3.0?privdefault=permit&sharedefault=permit',
        authority_reference: ['urn:isa:authority:misa'],
        control_set: { classification: 'U', formal_determination: ['AIS'] },
      },
    ]);
    const green = must(byId.get(IND_GREEN), 'byId.get(IND_GREEN)');
    assert.ok(
      must(green.object_marking_refs, 'green.object_marking_refs').includes(TLP1_GREEN) &&
        must(green.object_marking_refs, 'green.object_marking_refs').includes(TLP1_AMBER) &&
        must(green.object_marking_refs, 'green.object_marking_refs').includes(must(ais, 'ais').id),
      'own TLP, AIS TLP and AIS marking',
    );
    const secret = must(byId.get(IND_SECRET), 'byId.get(IND_SECRET)');
    const unreadable = defs.find(
      (d) =>
        must(secret.object_marking_refs, 'secret.object_marking_refs').includes(d.id) &&
        d.name === 'unreadable STIX 1.x marking acme:SecretMarkingType',
    );
    assert.ok(unreadable, 'the unknown structure is kept as a marking stixgate reads as unreadable');

    const { stored, unreadable: counted } = await ingest(objects, { tlp: 'clear' });
    assert.equal(
      tlpOf(stored.get(IND_GREEN)),
      'amber',
      "the package AIS AMBER outranks the indicator's GREEN; the source's clear does not apply",
    );
    assert.equal(tlpOf(stored.get(IND_SECRET)), 'red', 'an unreadable marking fails that contribution closed');
    assert.equal(counted, 1, 'counted once');
    const index = new LookupIndex({ now: () => T0 });
    for (const o of stored.values()) index.apply({ seq: 1, id: o.id, type: o.type, op: 'upsert', object: o });
    assert.equal(
      index.lookup('198.51.100.10', T0, 'green').matched,
      false,
      'no longer served as CLEAR to lower readers',
    );
    assert.equal(
      must(
        index.lookup('198.51.100.10', T0, 'amber').indicators[0],
        "index.lookup('198.51.100.10', T0, 'amber').indicators[0]",
      ).tlp,
      'amber',
    );
    assert.equal(index.lookup('198.51.100.11', T0, 'amber+strict').matched, false);
  });

  it('an AIS TLP:WHITE package is CLEAR, its proprietary flags kept', async () => {
    const { objects } = await collectXmlSource('stix1', join(FIXTURES, 'ais-white-package.xml'));
    const ais = objects.find((o) => o.extensions?.[AIS_EXTENSION_ID]);
    assert.deepEqual(ais?.extensions?.[AIS_EXTENSION_ID], {
      extension_type: 'property-extension',
      is_proprietary: true,
      cisa_proprietary: true,
      consent: 'usg',
      tlp: 'clear',
    });
    assert.ok(
      must(
        must(
          objects.find((o) => o.id === IND_WHITE),
          'objects.find((o) => o.id === IND_WHITE)',
        ).object_marking_refs,
        'objects.find((o) => o.id === IND_WHITE).object_marking_refs',
      ).includes(TLP1_WHITE),
    );
    const { stored } = await ingest(objects);
    assert.equal(tlpOf(stored.get(IND_WHITE)), 'clear');
  });

  it('the emitted objects pass stix2-validator', { skip: VALIDATOR_SKIP }, async () => {
    const a = await collectXmlSource('stix1', join(FIXTURES, 'ais-isa-package.xml'));
    const b = await collectXmlSource('stix1', join(FIXTURES, 'ais-white-package.xml'));
    assertValidStix([
      ['ais-isa-package', a.objects],
      ['ais-white-package', b.objects],
    ]);
  });
});

describe('markings: MISP tlp: tags', () => {
  const table = loadMispTable(MAPPINGS_DIR);
  const mapped = () => {
    const [ev] = eventsOf(JSON.parse(readFileSync(join(FIXTURES, 'misp-tlp-event.json'), 'utf8')));
    return mapEvent(must(ev, 'ev'), { now: '2026-03-01T12:00:00.000Z', table, name: 'markings' }).items.map(
      (i) => i.object,
    );
  };
  const indicatorFor = (objects: StixObject[], value: string) =>
    must(
      objects.find((o) => o.type === 'indicator' && String(o.pattern).includes(`'${value}'`)),
      "objects.find((o) => o.type === 'indicator' && String(o.pa...",
    );

  it('tags become TLP 2.0 marking refs and the converted bundle carries their marking-definitions', async () => {
    const objects = mapped();
    const defs = objects.filter((o) => o.type === 'marking-definition');
    assert.deepEqual(defs.map((d) => d.name).sort(), ['TLP:AMBER', 'TLP:AMBER+STRICT', 'TLP:CLEAR', 'TLP:RED']);
    for (const d of defs) {
      const k = classifyDefinition(d);
      assert.ok(k.kind === 'tlp', d.id);
      assert.deepEqual(d, tlpMarkingDefinition(k.tlp), 'the OASIS TLP 2.0 definition');
    }
    assert.deepEqual(
      indicatorFor(objects, '192.0.2.21').object_marking_refs,
      [TLP_MARKING_BY_LEVEL.amber],
      "the event's tag",
    );
    assert.deepEqual(
      indicatorFor(objects, '192.0.2.22').object_marking_refs,
      [TLP_MARKING_BY_LEVEL.clear],
      'tlp:white is CLEAR',
    );
    assert.deepEqual(indicatorFor(objects, '192.0.2.23').object_marking_refs, [TLP_MARKING_BY_LEVEL['amber+strict']]);
    assert.deepEqual(
      indicatorFor(objects, '192.0.2.24').object_marking_refs,
      [TLP_MARKING_BY_LEVEL.red],
      'an unknown tlp: tag fails closed',
    );
    const { stored } = await ingest(objects, { tlp: 'clear' });
    assert.deepEqual(
      ['192.0.2.21', '192.0.2.22', '192.0.2.23', '192.0.2.24'].map((v) =>
        tlpOf(stored.get(indicatorFor(objects, v).id)),
      ),
      ['amber', 'clear', 'amber+strict', 'red'],
    );
  });

  it('the converted bundle passes stix2-validator', { skip: VALIDATOR_SKIP }, () => {
    assertValidStix([['misp-tlp-event', mapped()]]);
  });
});
