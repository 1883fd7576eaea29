import { test } from 'node:test';
import assert from 'node:assert/strict';
import { QradarSimulator, type QradarSimulatorOptions } from './simulator.js';
import { specRecorder } from './openapi-check.js';
import { must } from '../../test/helpers/must.js';

const SEC = { SEC: 'sec-token' };
const basic = { Authorization: `Basic ${Buffer.from('admin:changeme').toString('base64')}` };

async function withSim(
  fn: (
    sim: QradarSimulator,
    api: (path: string, init?: RequestInit & { headers?: Record<string, string> }) => Promise<Response>,
  ) => Promise<void>,
  opts: QradarSimulatorOptions = {},
): Promise<void> {
  // responses are checked against the 26.0 OpenAPI document; requests are not (some are bad on purpose)
  const rec = specRecorder({ requests: false });
  const sim = new QradarSimulator({ onExchange: rec.hook, ...opts });
  const { base } = await sim.start();
  const api = async (path: string, init: RequestInit & { headers?: Record<string, string> } = {}) => {
    const headers = { ...SEC, ...(init.headers ?? {}) } as Record<string, string>;
    for (const k of Object.keys(headers)) if (headers[k] === undefined) delete headers[k];
    return fetch(`${base}/api${path}`, { ...init, headers });
  };
  try {
    await fn(sim, api);
  } finally {
    await sim.close();
  }
  assert.deepEqual(rec.problems(), []);
}

const json = { 'Content-Type': 'application/json' };
const enc2 = (v: string) => encodeURIComponent(encodeURIComponent(v));

test('auth: SEC token and Basic accepted; missing, wrong, revoked → 401 with a QRadar error body; read-only token → 403 on writes', async () => {
  await withSim(
    async (sim, api) => {
      assert.equal((await api('/help/versions')).status, 200);
      assert.equal(
        (await api('/help/versions', { headers: { SEC: undefined as unknown as string, ...basic } })).status,
        200,
      );
      const none = await fetch(new URL('/api/help/versions', (await api('/help/versions')).url));
      assert.equal(none.status, 401);
      const b = (await none.json()) as {
        http_response: { code: number; message: string };
        code: number;
        message: string;
      };
      assert.deepEqual(b.http_response, {
        code: 401,
        message: 'You are unauthorized to access the requested resource. Please log in.',
      });
      assert.match(b.message, /No SEC header present in request/);
      assert.equal((await api('/help/versions', { headers: { SEC: 'wrong' } })).status, 401);
      sim.revoke('sec-token');
      assert.equal((await api('/help/versions')).status, 401);
      assert.equal((await api('/help/versions', { headers: { SEC: 'ro' } })).status, 200);
      const w = await api('/reference_data/sets?name=x&element_type=ALN', { method: 'POST', headers: { SEC: 'ro' } });
      assert.equal(w.status, 403);
      assert.equal(((await w.json()) as { http_response: { code: number } }).http_response.code, 403);
    },
    { readOnlyTokens: ['ro'] },
  );
});

test('Version header: absent → latest, major only, higher → latest, removed and invalid → 422; collections absent on an old console', async () => {
  await withSim(async (_sim, api) => {
    const v = (await (await api('/help/versions')).json()) as { version: string; removed: boolean }[];
    assert.equal(must(v.at(-1), 'v.at(-1)').version, '26.0');
    assert.equal(
      must(
        v.find((x) => x.version === '3.0'),
        "v.find((x) => x.version === '3.0')",
      ).removed,
      true,
    );
    const bulk = (ver?: string) =>
      api('/reference_data/sets/bulk_load/nope', {
        method: 'POST',
        headers: { ...json, ...(ver ? { Version: ver } : {}) },
        body: '["a"]',
      });
    assert.equal((await bulk()).status, 410, 'latest = 26.0 removed bulk_load/{name}');
    assert.equal((await bulk('20.0')).status, 404, 'served in 20.0 (set missing)');
    assert.equal((await bulk('99.0')).status, 410, 'higher than latest → latest');
    assert.equal((await bulk('20')).status, 404);
    const removed = await bulk('3.0');
    assert.equal(removed.status, 422);
    assert.match(
      ((await removed.json()) as { message: string }).message,
      /Version \(3\.0\) from header parameter \(Version\) has been removed/,
    );
    const bad = await bulk('322.0123x');
    assert.equal(bad.status, 422);
    assert.match(((await bad.json()) as { message: string }).message, /is not a valid version/);
    const old = await api('/reference_data_collections/sets', { headers: { Version: '15.0' } });
    assert.equal(old.status, 404);
    const dep = await api('/reference_data/sets');
    assert.equal(dep.headers.get('deprecated'), 'true');
    assert.equal((await api('/reference_data/sets', { headers: { Version: '20.0' } })).headers.get('deprecated'), null);
  });
  await withSim(
    async (_sim, api) => {
      assert.equal((await api('/reference_data_collections/sets')).status, 404);
      const v = (await (await api('/help/versions')).json()) as { version: string }[];
      assert.equal(must(v.at(-1), 'v.at(-1)').version, '12.0');
    },
    { apiVersion: '12.0' },
  );
});

test('legacy sets: create (409/1004 on a duplicate), element types, bulk_load, paging with Content-Range, filter and fields', async () => {
  await withSim(async (sim, api) => {
    const c = await api(
      '/reference_data/sets?name=TI%20-%20IPv4&element_type=IP&timeout_type=LAST_SEEN&time_to_live=30%20days',
      { method: 'POST' },
    );
    assert.equal(c.status, 201);
    const meta = (await c.json()) as Record<string, unknown>;
    assert.equal(meta.time_to_live, '0 years 0mons 30 days 0 hours 0mins 0.0 secs');
    assert.equal(meta.element_type, 'IP');
    const dup = await api('/reference_data/sets?name=TI%20-%20IPv4&element_type=IP', { method: 'POST' });
    assert.equal(dup.status, 409);
    assert.deepEqual(await dup.json(), {
      http_response: {
        code: 409,
        message: 'The request could not be completed due to a conflict with the current state of the resource.',
      },
      code: 1004,
      message: 'The name TI - IPv4 is already in use',
      description:
        'The reference set could not be created, the name provided is already in use. Please change the name and try again.',
      details: {},
    });
    assert.equal((await api('/reference_data/sets?name=x', { method: 'POST' })).status, 422);
    assert.equal(
      (
        (await (await api('/reference_data/sets?name=x&element_type=XYZ', { method: 'POST' })).json()) as {
          code: number;
        }
      ).code,
      11,
    );
    assert.equal(
      (
        (await (
          await api('/reference_data/sets?name=x&element_type=ALN&time_to_live=12xzd', { method: 'POST' })
        ).json()) as { message: string }
      ).message,
      'Invalid time to live interval 12xzd',
    );
    const v6 = await api('/reference_data/sets/TI%20-%20IPv4?value=2001%3Adb8%3A%3A1', {
      method: 'POST',
      headers: { Version: '20.0' },
    });
    assert.equal(v6.status, 422);
    assert.deepEqual([((await v6.json()) as { code: number }).code], [1005]);
    const ips = Array.from({ length: 25 }, (_, i) => `10.0.0.${i}`);
    const bl = await api('/reference_data/sets/bulk_load/TI%20-%20IPv4', {
      method: 'POST',
      headers: { ...json, Version: '20.0' },
      body: JSON.stringify(ips),
    });
    assert.equal(bl.status, 200);
    assert.equal(((await bl.json()) as { number_of_elements: number }).number_of_elements, 25);
    const ns = await api('/reference_data/sets/bulk_load/SHARED/TI%20-%20IPv4/SHARED', {
      method: 'POST',
      headers: json,
      body: '["10.0.0.1","10.0.0.99"]',
    });
    assert.equal(ns.status, 200);
    assert.equal(sim.values('TI - IPv4').length, 26);
    const first = await api('/reference_data/sets/TI%20-%20IPv4');
    assert.equal(((await first.json()) as { data: unknown[] }).data.length, 20, 'first 20 without Range');
    const p = await api('/reference_data/sets/TI%20-%20IPv4?fields=name,data(value)', {
      headers: { Range: 'items=20-40' },
    });
    assert.equal(p.headers.get('content-range'), 'items 20-25/26');
    const pb = (await p.json()) as { name: string; data: { value: string }[] };
    assert.deepEqual(Object.keys(pb), ['name', 'data']);
    assert.deepEqual(
      pb.data.map((d) => d.value),
      [...ips.slice(20), '10.0.0.99'],
    );
    const past = await api('/reference_data/sets/TI%20-%20IPv4', { headers: { Range: 'items=100-110' } });
    assert.equal(past.headers.get('content-range'), 'items */26');
    const badRange = await api('/reference_data/sets', { headers: { Range: 'rows=1-2' } });
    assert.equal(badRange.status, 422);
    assert.equal(((await badRange.json()) as { code: number }).code, 36);
    const f = await api(
      `/reference_data/sets?filter=${encodeURIComponent('element_type="IP" and number_of_elements>10')}&fields=name`,
    );
    assert.deepEqual(await f.json(), [{ name: 'TI - IPv4' }]);
    assert.equal((await api(`/reference_data/sets?filter=${encodeURIComponent('name ==')}`)).status, 422);
    const badBulk = await api('/reference_data/sets/bulk_load/SHARED/TI%20-%20IPv4/SHARED', {
      method: 'POST',
      headers: json,
      body: '["10.0.0.200","evil.example"]',
    });
    assert.equal(badBulk.status, 422);
    assert.equal(((await badBulk.json()) as { message: string }).message, 'Invalid IP value: evil.example');
    assert.equal(sim.values('TI - IPv4').includes('10.0.0.200'), false, 'a refused bulk load stores nothing');
    assert.equal(
      (
        (await (
          await api('/reference_data/sets/bulk_load/SHARED/TI%20-%20IPv4/SHARED', {
            method: 'POST',
            headers: json,
            body: '{',
          })
        ).json()) as { code: number }
      ).code,
      1001,
    );
    assert.equal(
      (
        (await (
          await api('/reference_data/sets/bulk_load/SHARED/TI%20-%20IPv4/SHARED', { method: 'POST', headers: json })
        ).json()) as { code: number }
      ).code,
      10,
    );
    assert.equal(
      (
        (await (
          await api('/reference_data/sets/bulk_load/SHARED/nope/SHARED', { method: 'POST', headers: json, body: '[]' })
        ).json()) as { code: number }
      ).code,
      1002,
    );
    assert.equal(
      ((await (await api('/reference_data/sets/TI%20-%20IPv4?namespace=TENANT')).json()) as { code: number }).code,
      1012,
    );
  });
});

test('legacy delete: double-encoded URL values, ALNIC case-insensitive, 404/1003 for a missing value, single-encoded slash misses', async () => {
  await withSim(async (sim, api) => {
    await api('/reference_data/sets?name=urls&element_type=ALNIC', { method: 'POST' });
    const url = 'http://Evil.example:8080/a/b?x=1&y=%41';
    await api('/reference_data/sets/bulk_load/SHARED/urls/SHARED', {
      method: 'POST',
      headers: json,
      body: JSON.stringify([url, 'MiXeD.example']),
    });
    await api('/reference_data/sets/bulk_load/SHARED/urls/SHARED', {
      method: 'POST',
      headers: json,
      body: JSON.stringify(['mixed.EXAMPLE']),
    });
    assert.deepEqual(sim.values('urls'), [url, 'MiXeD.example'], 'ALNIC de-duplicates ignoring case');
    const single = await api(`/reference_data/sets/urls/${encodeURIComponent(url)}`, { method: 'DELETE' });
    assert.equal(single.status, 404, 'single-encoded %2F splits the path');
    const d = await api(`/reference_data/sets/urls/${enc2(url)}`, { method: 'DELETE' });
    assert.equal(d.status, 200);
    assert.equal(((await d.json()) as { number_of_elements: number }).number_of_elements, 1);
    const again = await api(`/reference_data/sets/urls/${enc2(url)}`, { method: 'DELETE' });
    assert.equal(again.status, 404);
    assert.deepEqual(await again.json(), {
      http_response: { code: 404, message: 'We could not find the resource you requested.' },
      code: 1003,
      message: `Set urls does not contain value ${url} in shared`,
      description: 'The record does not exist in the reference set.',
      details: {},
    });
    assert.equal((await api(`/reference_data/sets/urls/${enc2('MIXED.example')}`, { method: 'DELETE' })).status, 200);
    assert.deepEqual(sim.values('urls'), []);
    const ds = await api('/reference_data/sets/urls', { method: 'DELETE' });
    assert.equal(ds.status, 202);
    assert.match(ds.headers.get('location') ?? '', /^\/api\/system\/task_management\/tasks\/\d+$/);
    assert.equal(((await ds.json()) as { status: string }).status, 'QUEUED');
    assert.equal(
      (
        (await api(
          `/system/task_management/tasks/${must(ds.headers.get('location'), "ds.headers.get('location')").split('/').pop()}`,
        ).then((r) => r.json())) as { status: string }
      ).status,
      'COMPLETED',
    );
    assert.equal(sim.set('urls'), undefined);
  });
});

test('TTL: LAST_SEEN ages from the last add (a re-add extends life), FIRST_SEEN from the first', async () => {
  let now = 1_700_000_000_000;
  await withSim(
    async (sim, api) => {
      await api('/reference_data/sets?name=last&element_type=ALN&timeout_type=LAST_SEEN&time_to_live=1%20hour', {
        method: 'POST',
      });
      await api('/reference_data/sets?name=first&element_type=ALN&timeout_type=FIRST_SEEN&time_to_live=60%20minutes', {
        method: 'POST',
      });
      for (const s of ['last', 'first'])
        await api(`/reference_data/sets/bulk_load/SHARED/${s}/SHARED`, {
          method: 'POST',
          headers: json,
          body: '["a","b"]',
        });
      now += 40 * 60_000;
      for (const s of ['last', 'first'])
        await api(`/reference_data/sets/bulk_load/SHARED/${s}/SHARED`, {
          method: 'POST',
          headers: json,
          body: '["a"]',
        });
      now += 30 * 60_000;
      assert.deepEqual(sim.values('last'), ['a']);
      assert.deepEqual(sim.values('first'), []);
      const e = must(sim.elements('last')[0], "sim.elements('last')[0]");
      assert.equal(e.lastSeen - e.firstSeen, 40 * 60_000);
    },
    { now: () => now },
  );
});

test('collections: sets, entries 201/200, filter, Range, delete 204/404, async bulk update with task and results', async () => {
  await withSim(async (sim, api) => {
    const c = await api('/reference_data_collections/sets', {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ name: 'TI - IPv4', entry_type: 'IP', expiry_type: 'LAST_SEEN', time_to_live: 86_400 }),
    });
    assert.equal(c.status, 201);
    const set = (await c.json()) as { id: number; time_to_live: number };
    assert.equal(set.time_to_live, 86_400);
    assert.equal(
      (
        (await (
          await api('/reference_data_collections/sets', {
            method: 'POST',
            headers: json,
            body: JSON.stringify({ name: 'TI - IPv4', entry_type: 'IP' }),
          })
        ).json()) as { code: number }
      ).code,
      10006,
    );
    assert.equal(
      (
        (await (
          await api('/reference_data_collections/sets', {
            method: 'POST',
            headers: json,
            body: JSON.stringify({ name: 'x' }),
          })
        ).json()) as { code: number }
      ).code,
      10001,
    );
    assert.equal(
      (
        (await (
          await api('/reference_data_collections/sets', {
            method: 'POST',
            headers: json,
            body: JSON.stringify({ name: 'x', entry_type: 'ALN', time_to_live: '1 day' }),
          })
        ).json()) as { code: number }
      ).code,
      10007,
    );
    const legacyView = (await (await api('/reference_data/sets/TI%20-%20IPv4')).json()) as {
      collection_id: number;
      time_to_live: string;
    };
    assert.equal(legacyView.collection_id, set.id);
    assert.equal(legacyView.time_to_live, '0 years 0mons 1 days 0 hours 0mins 0.0 secs');
    const e1 = await api('/reference_data_collections/set_entries', {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ collection_id: set.id, value: '1.2.3.4', source: 'stixgate', notes: 'n1' }),
    });
    assert.equal(e1.status, 201);
    const e1b = (await e1.json()) as { id: number };
    assert.equal(
      (
        await api('/reference_data_collections/set_entries', {
          method: 'POST',
          headers: json,
          body: JSON.stringify({ collection_id: set.id, value: '1.2.3.4' }),
        })
      ).status,
      200,
    );
    const bad = await api('/reference_data_collections/set_entries', {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ collection_id: set.id, value: '::1' }),
    });
    assert.equal(bad.status, 422);
    const patch = await api('/reference_data_collections/set_entries', {
      method: 'PATCH',
      headers: json,
      body: JSON.stringify([
        { collection_id: set.id, value: '5.6.7.8' },
        { collection_id: set.id, value: 'not-an-ip' },
        { collection_id: set.id, value: '1.2.3.4' },
      ]),
    });
    assert.equal(patch.status, 202);
    const task = (await patch.json()) as { id: number; status: string };
    assert.equal(task.status, 'QUEUED');
    await sim.tasks.idle();
    const st = (
      (await (await api(`/reference_data_collections/set_bulk_update_tasks/${task.id}`)).json()) as { status: string }
    ).status;
    assert.equal(st, 'COMPLETED');
    const res = (await (await api(`/reference_data_collections/set_bulk_update_tasks/${task.id}/results`)).json()) as {
      status: string;
      responses: { http_status: number; unique_code: number }[];
    };
    assert.equal(res.status, 'PARTIAL_UPDATE_PERFORMED');
    assert.deepEqual(
      res.responses.map((x) => x.http_status),
      [201, 422, 200],
    );
    assert.equal(
      (
        (await (
          await api('/reference_data_collections/set_entries', {
            method: 'PATCH',
            headers: json,
            body: JSON.stringify([{ collection_id: 999, value: 'a' }]),
          })
        ).json()) as { code: number }
      ).code,
      23000,
    );
    const list = await api(
      `/reference_data_collections/set_entries?filter=${encodeURIComponent(`collection_id=${set.id} and value in ("5.6.7.8","9.9.9.9")`)}`,
      { headers: { Range: 'items=0-49' } },
    );
    assert.equal(list.headers.get('content-range'), 'items 0-0/1');
    const rows = (await list.json()) as { id: number; value: string }[];
    assert.deepEqual(
      rows.map((x) => x.value),
      ['5.6.7.8'],
    );
    assert.equal(
      (await api(`/reference_data_collections/set_entries/${must(rows[0], 'rows[0]').id}`, { method: 'DELETE' }))
        .status,
      204,
    );
    assert.equal(
      (
        (await (
          await api(`/reference_data_collections/set_entries/${must(rows[0], 'rows[0]').id}`, { method: 'DELETE' })
        ).json()) as {
          code: number;
        }
      ).code,
      22001,
    );
    assert.equal(
      ((await (await api(`/reference_data_collections/set_entries/${e1b.id}`)).json()) as { notes: string }).notes,
      'n1',
    );
    assert.deepEqual(sim.values('TI - IPv4'), ['1.2.3.4']);
    const del = await api(`/reference_data_collections/sets/${set.id}`, { method: 'DELETE' });
    assert.equal(del.status, 202);
    const dt = (await del.json()) as { id: number };
    assert.equal(
      ((await (await api(`/reference_data_collections/set_delete_tasks/${dt.id}`)).json()) as { status: string })
        .status,
      'COMPLETED',
    );
    assert.equal(
      ((await (await api(`/reference_data_collections/sets/${set.id}`)).json()) as { code: number }).code,
      15000,
    );
  });
});

test('faults: status with Retry-After, drop after handling, partial accept, latency growth; /__sim/ inspection without auth', async () => {
  await withSim(async (sim, api) => {
    await api('/reference_data/sets?name=d&element_type=ALN', { method: 'POST' });
    sim.inject({ status: 429, retryAfter: 7, target: 'legacy' });
    const r = await api('/reference_data/sets/bulk_load/SHARED/d/SHARED', {
      method: 'POST',
      headers: json,
      body: '["a"]',
    });
    assert.equal(r.status, 429);
    assert.equal(r.headers.get('retry-after'), '7');
    assert.equal(((await r.json()) as { http_response: { code: number } }).http_response.code, 429);
    sim.inject({ dropAfterHandling: true });
    await assert.rejects(
      api('/reference_data/sets/bulk_load/SHARED/d/SHARED', { method: 'POST', headers: json, body: '["b"]' }),
    );
    assert.deepEqual(sim.values('d'), ['b'], 'handled before the connection dropped');
    sim.inject({ partialAccept: 1 });
    const p = await api('/reference_data/sets/bulk_load/SHARED/d/SHARED', {
      method: 'POST',
      headers: json,
      body: '["c","e"]',
    });
    assert.equal(p.status, 500);
    assert.equal(((await p.json()) as { code: number }).code, 1020);
    assert.deepEqual(sim.values('d'), ['b', 'c']);
    sim.inject({ status: 503, times: 5 });
    sim.clearFaults();
    const base = new URL(p.url).origin;
    const state = (await (await fetch(`${base}/__sim/state`)).json()) as {
      sets: { name: string; size: number }[];
      faults: number;
    };
    assert.deepEqual(
      state.sets.map((s) => [s.name, s.size]),
      [['d', 2]],
    );
    assert.equal(state.faults, 0);
    const reqs = (await (await fetch(`${base}/__sim/requests`)).json()) as { status: number }[];
    assert.deepEqual(
      reqs.map((x) => x.status),
      [201, 429, -1, 500],
    );
    assert.equal((await fetch(`${base}/__sim/reset-faults`, { method: 'POST' })).status, 200);
  });
  // the modelled latency of a bulk load, on the virtual clock the chunker tests use (no wall-clock reading)
  const modelled: number[] = [];
  await withSim(
    async (_sim, api) => {
      await api('/reference_data/sets?name=slow&element_type=ALN', { method: 'POST' });
      await api('/reference_data/sets/bulk_load/SHARED/slow/SHARED', {
        method: 'POST',
        headers: json,
        body: JSON.stringify(Array.from({ length: 1000 }, (_, i) => `v${i}`)),
      });
      // 20 ms + 1000 · 10 µs + 100 ns · 1000·999/2 = 20 + 10 + 49.95 ms
      assert.equal(modelled.length, 1);
      assert.ok(Math.abs(must(modelled[0], 'modelled[0]') - 79.95) < 1e-9, `latency ${modelled[0]}`);
    },
    {
      bulkLatency: { requestMs: 20, perElementUs: 10, growthNsPerElement: 100 },
      virtualLatency: (ms) => {
        modelled.push(ms);
      },
    },
  );
});

test('legacy sets refuse CIDR (IBM lists ALN, ALNIC, IP, NUM, PORT, DATE) on every API version; collections take CIDR; a double-encoded set name is not found', async () => {
  await withSim(async (sim, api) => {
    for (const v of ['12.0', '20.0', '26.0']) {
      const r = await api('/reference_data/sets?name=nets&element_type=CIDR', {
        method: 'POST',
        headers: { Version: v },
      });
      assert.equal(r.status, 422, `API ${v}`);
      assert.deepEqual(await r.json(), {
        http_response: {
          code: 422,
          message: 'The request was well-formed but was unable to be followed due to semantic errors.',
        },
        code: 11,
        message: 'Failed to transform user query parameter "element_type" with a content type of "TEXT_PLAIN"',
        description: 'A request parameter is not valid',
        details: {},
      });
    }
    assert.equal(sim.set('nets'), undefined);
    const c = await api('/reference_data_collections/sets', {
      method: 'POST',
      headers: { ...json, Version: '26.0' },
      body: JSON.stringify({ name: 'nets', entry_type: 'CIDR' }),
    });
    assert.equal(c.status, 201);
    await api('/reference_data/sets?name=TI%20-%20Domains&element_type=ALNIC', { method: 'POST' });
    const once = await api('/reference_data/sets/bulk_load/SHARED/TI%20-%20Domains/SHARED', {
      method: 'POST',
      headers: json,
      body: '["a.example"]',
    });
    assert.equal(once.status, 200);
    const twice = await api(`/reference_data/sets/bulk_load/SHARED/${enc2('TI - Domains')}/SHARED`, {
      method: 'POST',
      headers: json,
      body: '["b.example"]',
    });
    assert.equal(twice.status, 404);
    assert.deepEqual((await twice.json()) as { code: number; message: string }, {
      http_response: { code: 404, message: 'We could not find the resource you requested.' },
      code: 1002,
      message: 'TI%20-%20Domains does not exist',
      description: 'The reference set does not exist.',
      details: {},
    });
    assert.equal(
      (await api(`/reference_data/sets/${enc2('TI - Domains')}/${enc2('a.example')}`, { method: 'DELETE' })).status,
      404,
    );
    assert.equal(
      (
        await api(`/reference_data/sets/${encodeURIComponent('TI - Domains')}/${enc2('a.example')}`, {
          method: 'DELETE',
        })
      ).status,
      200,
    );
    assert.deepEqual(sim.values('TI - Domains'), []);
  });
});
