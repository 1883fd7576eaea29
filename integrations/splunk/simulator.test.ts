import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SplunkSimulator } from './simulator.js';
import { must } from '../../test/helpers/must.js';

const HEC = '11111111-2222-3333-4444-555555555555';
const HEC_ACK = '99999999-2222-3333-4444-555555555555';
const CH = 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee';
const basic = `Basic ${Buffer.from('admin:changeme').toString('base64')}`;
const NS = '/servicesNS/nobody/stixgate/storage/collections';

async function withSim(
  fn: (sim: SplunkSimulator, base: string) => Promise<void>,
  opts: ConstructorParameters<typeof SplunkSimulator>[0] = {},
): Promise<void> {
  const sim = new SplunkSimulator({
    bearerTokens: ['jwt-1'],
    hecTokens: { [HEC]: { indexes: ['threat_intel'] }, [HEC_ACK]: { useAck: true } },
    ...opts,
  });
  const { base } = await sim.start();
  try {
    await fn(sim, base);
  } finally {
    await sim.close();
  }
}

const form = (o: Record<string, string>) => ({
  'Content-Type': 'application/x-www-form-urlencoded',
  body: new URLSearchParams(o).toString(),
});

async function createCollection(base: string, auth: string, name: string): Promise<Response> {
  const f = form({ name, 'field.score': 'number', 'field.value': 'string' });
  return fetch(`${base}${NS}/config?output_mode=json`, {
    method: 'POST',
    headers: { Authorization: auth, 'Content-Type': f['Content-Type'] },
    body: f.body,
  });
}

const post = (url: string, auth: string, body: unknown) =>
  fetch(url, {
    method: 'POST',
    headers: { Authorization: auth, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });

test('login gives a session key (XML and JSON); bad password is 401', async () => {
  await withSim(async (_sim, base) => {
    const f = form({ username: 'admin', password: 'changeme' });
    const x = await fetch(`${base}/services/auth/login`, {
      method: 'POST',
      headers: { 'Content-Type': f['Content-Type'] },
      body: f.body,
    });
    assert.equal(x.status, 200);
    const key = /<sessionKey>([^<]+)<\/sessionKey>/.exec(await x.text())?.[1];
    assert.ok(key);
    const j = await fetch(`${base}/services/auth/login?output_mode=json`, {
      method: 'POST',
      headers: { 'Content-Type': f['Content-Type'] },
      body: f.body,
    });
    const jb = (await j.json()) as { sessionKey: string; message: string };
    assert.equal(typeof jb.sessionKey, 'string');
    assert.equal(jb.message, '');
    const info = await fetch(`${base}/services/server/info?output_mode=json`, {
      headers: { Authorization: `Splunk ${key}` },
    });
    assert.equal(info.status, 200);
    assert.equal(
      must(
        ((await info.json()) as { entry: { content: { version: string } }[] }).entry[0],
        '((await info.json()) as { entry: { content: { version: st...',
      ).content.version,
      '9.0.0',
    );
    const bad = form({ username: 'admin', password: 'nope' });
    const b = await fetch(`${base}/services/auth/login?output_mode=json`, {
      method: 'POST',
      headers: { 'Content-Type': bad['Content-Type'] },
      body: bad.body,
    });
    assert.equal(b.status, 401);
    assert.deepEqual(await b.json(), {
      messages: [{ type: 'WARN', code: 'incorrect_username_or_password', text: 'Login failed' }],
    });
  });
});

test('management auth: Basic, Bearer and session keys accepted; others get the documented 401', async () => {
  await withSim(async (sim, base) => {
    const url = `${base}${NS}/config?output_mode=json`;
    for (const auth of [basic, 'Bearer jwt-1', `Splunk ${sim.sessionFor('admin')}`]) {
      assert.equal((await fetch(url, { headers: { Authorization: auth } })).status, 200, auth);
    }
    for (const auth of ['Bearer wrong', 'Splunk nope', `Basic ${Buffer.from('admin:x').toString('base64')}`]) {
      const r = await fetch(url, { headers: { Authorization: auth } });
      assert.equal(r.status, 401);
      assert.deepEqual(await r.json(), { messages: [{ type: 'WARN', text: 'call not properly authenticated' }] });
    }
    const none = await fetch(`${base}${NS}/config`);
    assert.equal(none.status, 401);
    assert.match(await none.text(), /<msg type="WARN">call not properly authenticated<\/msg>/);
    const key = sim.sessionFor('admin');
    const port = new URL(base).port;
    assert.equal((await fetch(url, { headers: { Cookie: `splunkd_${port}=${key}` } })).status, 200);
    assert.equal((await fetch(url, { headers: { Cookie: `splunkd_${port}=other` } })).status, 401);
    sim.revoke(key);
    assert.equal((await fetch(url, { headers: { Authorization: `Splunk ${key}` } })).status, 401);
    sim.revoke('jwt-1');
    assert.equal((await fetch(url, { headers: { Authorization: 'Bearer jwt-1' } })).status, 401);
  });
});

test('create collection, duplicate 409, list as JSON and Atom; ES intel collections exist', async () => {
  await withSim(async (sim, base) => {
    const r = await createCollection(base, basic, 'indicators');
    assert.equal(r.status, 201);
    const body = (await r.json()) as { entry: { name: string; content: Record<string, string> }[] };
    assert.equal(must(body.entry[0], 'body.entry[0]').name, 'indicators');
    assert.equal(must(body.entry[0], 'body.entry[0]').content['field.score'], 'number');
    const dup = await createCollection(base, basic, 'indicators');
    assert.equal(dup.status, 409);
    assert.deepEqual(await dup.json(), {
      messages: [{ type: 'ERROR', text: 'An object with name=indicators already exists' }],
    });
    const atom = await (await fetch(`${base}${NS}/config/indicators`, { headers: { Authorization: basic } })).text();
    assert.match(atom, /<title>indicators<\/title>/);
    assert.match(atom, /<s:key name="field.score">number<\/s:key>/);
    assert.match(
      atom,
      /<link href="\/servicesNS\/nobody\/stixgate\/storage\/collections\/config\/indicators" rel="alternate"\/>/,
    );
    assert.equal(
      (await fetch(`${base}${NS}/config/missing?output_mode=json`, { headers: { Authorization: basic } })).status,
      404,
    );
    const es = await fetch(
      `${base}/servicesNS/nobody/DA-ESS-ThreatIntelligence/storage/collections/config?output_mode=json`,
      { headers: { Authorization: basic } },
    );
    const names = ((await es.json()) as { entry: { name: string }[] }).entry.map((e) => e.name).sort();
    assert.deepEqual(names, [
      'certificate_intel',
      'email_intel',
      'file_intel',
      'http_intel',
      'ip_intel',
      'process_intel',
      'registry_intel',
      'service_intel',
      'user_intel',
    ]);
    assert.equal(
      must(
        sim.collection('DA-ESS-ThreatIntelligence', 'ip_intel'),
        "sim.collection('DA-ESS-ThreatIntelligence', 'ip_intel')",
      ).fields.weight,
      'number',
    );
  });
});

test('batch_save upserts by _key, types fields, query/filter/sort, delete by key and by query', async () => {
  await withSim(async (sim, base) => {
    await createCollection(base, basic, 'ind');
    const data = `${base}${NS}/data/ind`;
    const r1 = await post(`${data}/batch_save`, basic, [
      { _key: 'a', value: '1.2.3.4', score: '40' },
      { _key: 'b', value: 'evil.com', score: 90 },
      { value: 'nokey', score: 'x' },
    ]);
    assert.equal(r1.status, 200);
    const keys = (await r1.json()) as string[];
    assert.deepEqual(keys.slice(0, 2), ['a', 'b']);
    assert.match(must(keys[2], 'keys[2]'), /^[0-9a-f]{24}$/);
    const r2 = await post(`${data}/batch_save`, basic, [{ _key: 'a', value: '1.2.3.4', score: 55 }]);
    assert.deepEqual(await r2.json(), ['a']);
    const docs = sim.documents('stixgate', 'ind');
    assert.equal(docs.length, 3);
    assert.deepEqual(docs[0], { _key: 'a', value: '1.2.3.4', score: 55, _user: 'nobody' });
    assert.equal('score' in must(docs[2], 'docs[2]'), false, 'untypeable field dropped when enforceTypes=false');
    const q = await fetch(
      `${data}?query=${encodeURIComponent('{"score":{"$gt":50}}')}&sort=score:-1&fields=value,_user:0`,
      { headers: { Authorization: basic } },
    );
    assert.deepEqual(await q.json(), [
      { value: 'evil.com', _key: 'b' },
      { value: '1.2.3.4', _key: 'a' },
    ]);
    const one = await fetch(`${data}/b`, { headers: { Authorization: basic } });
    assert.equal(((await one.json()) as { value: string }).value, 'evil.com');
    const ins = await post(data, basic, { _key: 'b', value: 'x' });
    assert.equal(ins.status, 409);
    assert.deepEqual(await ins.json(), {
      messages: [{ type: 'ERROR', text: 'A document with the same key and user already exists.' }],
    });
    assert.equal((await fetch(`${data}/b`, { method: 'DELETE', headers: { Authorization: basic } })).status, 200);
    assert.equal((await fetch(`${data}/b`, { method: 'DELETE', headers: { Authorization: basic } })).status, 404);
    const dq = await fetch(`${data}?query=${encodeURIComponent('{"value":"1.2.3.4"}')}`, {
      method: 'DELETE',
      headers: { Authorization: basic },
    });
    assert.equal(dq.status, 200);
    assert.equal(sim.documents('stixgate', 'ind').length, 1);
    const missing = await post(`${base}${NS}/data/nope/batch_save`, basic, [{ _key: 'z' }]);
    assert.equal(missing.status, 404);
  });
});

test('batch_save document and byte limits give 400 with a messages body and store nothing', async () => {
  await withSim(
    async (sim, base) => {
      await createCollection(base, basic, 'ind');
      const ok = await post(
        `${base}${NS}/data/ind/batch_save`,
        basic,
        Array.from({ length: 5 }, (_, i) => ({ _key: `k${i}` })),
      );
      assert.equal(ok.status, 200);
      const over = await post(
        `${base}${NS}/data/ind/batch_save`,
        basic,
        Array.from({ length: 6 }, (_, i) => ({ _key: `x${i}` })),
      );
      assert.equal(over.status, 400);
      assert.deepEqual(await over.json(), {
        messages: [
          {
            type: 'ERROR',
            text: 'Request exceeds API limits - see limits.conf for details. (Too many documents for a single batch save, max=5)',
          },
        ],
      });
      const big = await post(`${base}${NS}/data/ind/batch_save`, basic, [
        { _key: 'big', v: 'x'.repeat(1024 * 1024 + 10) },
      ]);
      assert.equal(big.status, 400);
      assert.match(
        must(
          ((await big.json()) as { messages: { text: string }[] }).messages[0],
          '((await big.json()) as { messages: { text: string }[] })....',
        ).text,
        /max_size_per_batch_save_mb=1/,
      );
      assert.equal(sim.documents('stixgate', 'ind').length, 5);
    },
    { maxDocumentsPerBatchSave: 5, maxSizePerBatchSaveMb: 1 },
  );
});

test('HEC: stacked events, auth codes, index check, invalid-event-number', async () => {
  await withSim(async (sim, base) => {
    const url = `${base}/services/collector/event`;
    const body =
      '{"event":{"v":"1.2.3.4"},"index":"threat_intel","fields":{"t":"ipv4"}}{"event":"b","time":1700000000.5}';
    const ok = await fetch(url, { method: 'POST', headers: { Authorization: `Splunk ${HEC}` }, body });
    assert.deepEqual(await ok.json(), { text: 'Success', code: 0 });
    assert.equal(sim.events().length, 2);
    assert.deepEqual(must(sim.events()[1], 'sim.events()[1]').time, 1700000000.5);
    const basicTok = await fetch(url, {
      method: 'POST',
      headers: { Authorization: `Basic ${Buffer.from(`x:${HEC}`).toString('base64')}` },
      body: '{"event":"c"}',
    });
    assert.equal(basicTok.status, 200);
    const cases: [Record<string, string>, string, number, unknown][] = [
      [{}, '{"event":"x"}', 401, { text: 'Token is required', code: 2 }],
      [{ Authorization: HEC }, '{"event":"x"}', 401, { text: 'Invalid authorization', code: 3 }],
      [
        { Authorization: 'Splunk 00000000-0000-0000-0000-000000000000' },
        '{"event":"x"}',
        403,
        { text: 'Invalid token', code: 4 },
      ],
      [
        { Authorization: `Splunk ${HEC}` },
        '{"event":"x","index":"main"}',
        400,
        { text: 'Incorrect index', code: 7, 'invalid-event-number': 0 },
      ],
      [
        { Authorization: `Splunk ${HEC}` },
        '{"event":"ok"}{"nope":1}',
        400,
        { text: 'Event field is required', code: 12, 'invalid-event-number': 1 },
      ],
      [
        { Authorization: `Splunk ${HEC}` },
        '{"event":"ok"}{"event":',
        400,
        { text: 'Invalid data format', code: 6, 'invalid-event-number': 1 },
      ],
      [
        { Authorization: `Splunk ${HEC}` },
        '[{"event":"x"}]',
        400,
        { text: 'Invalid data format', code: 6, 'invalid-event-number': 0 },
      ],
      [{ Authorization: `Splunk ${HEC}` }, '', 400, { text: 'No data', code: 5 }],
      [
        { Authorization: `Splunk ${HEC}` },
        '{"event":""}',
        400,
        { text: 'Event field cannot be blank', code: 13, 'invalid-event-number': 0 },
      ],
    ];
    for (const [headers, b, status, expect] of cases) {
      const r = await fetch(url, { method: 'POST', headers, body: b });
      assert.equal(r.status, status, b);
      assert.deepEqual(await r.json(), expect, b);
    }
    assert.equal(sim.events().length, 5, 'events before the bad one are kept');
    const q = await fetch(`${url}?token=${HEC}`, { method: 'POST', body: '{"event":"x"}' });
    assert.deepEqual(await q.json(), { text: 'Query string authorization is not enabled', code: 16 });
    const h = await fetch(`${base}/services/collector/health`);
    assert.deepEqual(await h.json(), { text: 'HEC is healthy', code: 17 });
  });
});

test('HEC indexer acknowledgement: channel required, ackIds per channel, held acks', async () => {
  await withSim(async (sim, base) => {
    const url = `${base}/services/collector/event`;
    const auth = { Authorization: `Splunk ${HEC_ACK}` };
    const noCh = await fetch(url, { method: 'POST', headers: auth, body: '{"event":"x"}' });
    assert.deepEqual([noCh.status, await noCh.json()], [400, { text: 'Data channel is missing', code: 10 }]);
    const badCh = await fetch(url, {
      method: 'POST',
      headers: { ...auth, 'X-Splunk-Request-Channel': 'nope' },
      body: '{"event":"x"}',
    });
    assert.deepEqual([badCh.status, await badCh.json()], [400, { text: 'Invalid data channel', code: 11 }]);
    const h = { ...auth, 'X-Splunk-Request-Channel': CH };
    assert.deepEqual(await (await fetch(url, { method: 'POST', headers: h, body: '{"event":"a"}' })).json(), {
      text: 'Success',
      code: 0,
      ackId: 0,
    });
    sim.hec.holdAcks = true;
    assert.deepEqual(await (await fetch(url, { method: 'POST', headers: h, body: '{"event":"b"}' })).json(), {
      text: 'Success',
      code: 0,
      ackId: 1,
    });
    const ack = () =>
      fetch(`${base}/services/collector/ack`, {
        method: 'POST',
        headers: h,
        body: JSON.stringify({ acks: [0, 1, 7] }),
      }).then((r) => r.json());
    assert.deepEqual(await ack(), { acks: { '0': true, '1': false, '7': false } });
    sim.hec.releaseAcks();
    assert.deepEqual(await ack(), { acks: { '0': true, '1': true, '7': false } });
    const disabled = await fetch(`${base}/services/collector/ack`, {
      method: 'POST',
      headers: { Authorization: `Splunk ${HEC}`, 'X-Splunk-Request-Channel': CH },
      body: '{"acks":[0]}',
    });
    assert.deepEqual([disabled.status, await disabled.json()], [400, { text: 'ACK is disabled', code: 14 }]);
  });
});

test('faults: 429 with Retry-After, 5xx, delay, partial batch, drop after handling, revoked HEC token', async () => {
  await withSim(async (sim, base) => {
    await createCollection(base, basic, 'ind');
    const bs = `${base}${NS}/data/ind/batch_save`;
    sim.inject({ target: 'kv', status: 429, retryAfter: 7, times: 2 });
    for (let i = 0; i < 2; i++) {
      const r = await post(bs, basic, [{ _key: 'a' }]);
      assert.equal(r.status, 429);
      assert.equal(r.headers.get('retry-after'), '7');
      assert.deepEqual(await r.json(), { messages: [{ type: 'ERROR', text: 'Too many requests' }] });
    }
    assert.equal((await post(bs, basic, [{ _key: 'a' }])).status, 200);
    sim.inject({ target: 'hec', status: 503 });
    const busy = await fetch(`${base}/services/collector/event`, {
      method: 'POST',
      headers: { Authorization: `Splunk ${HEC}` },
      body: '{"event":"x"}',
    });
    assert.deepEqual([busy.status, await busy.json()], [503, { text: 'Server is busy', code: 9 }]);
    sim.inject({ target: 'kv', delayMs: 150 });
    const t0 = Date.now();
    assert.equal((await post(bs, basic, [{ _key: 'a' }])).status, 200);
    assert.ok(Date.now() - t0 >= 140);
    sim.inject({ target: 'kv', partialAccept: 2 });
    const part = await post(bs, basic, [{ _key: 'p1' }, { _key: 'p2' }, { _key: 'p3' }]);
    assert.equal(part.status, 500);
    assert.deepEqual(
      sim.documents('stixgate', 'ind').map((d) => d._key),
      ['a', 'p1', 'p2'],
    );
    sim.inject({ target: 'kv', dropAfterHandling: true });
    await assert.rejects(post(bs, basic, [{ _key: 'dropped' }]));
    assert.equal(sim.documents('stixgate', 'ind').length, 4, 'the dropped request was applied');
    sim.revoke(HEC);
    const rev = await fetch(`${base}/services/collector/event`, {
      method: 'POST',
      headers: { Authorization: `Splunk ${HEC}` },
      body: '{"event":"x"}',
    });
    assert.deepEqual([rev.status, await rev.json()], [403, { text: 'Invalid token', code: 4 }]);
    const log = sim.requests.filter((r) => r.path.endsWith('batch_save')).map((r) => r.status);
    assert.deepEqual(log, [429, 429, 200, 200, 500, -1]);
    const state = (await (await fetch(`${base}/__sim/state`)).json()) as {
      events: number;
      collections: { name: string; documents: number }[];
    };
    assert.equal(
      must(
        state.collections.find((c) => c.name === 'ind'),
        "state.collections.find((c) => c.name === 'ind')",
      ).documents,
      4,
    );
  });
});

test('ES threat_intel item API writes the DA-ESS-ThreatIntelligence collections', async () => {
  await withSim(async (sim, base) => {
    const url = `${base}/services/data/threat_intel/item/ip_intel`;
    const f = form({
      item: JSON.stringify([
        { _key: 'i1', domain: 'evil.example', description: 'c2', weight: 80, threat_key: 'stixgate' },
        { _key: 'i2', ip: '198.51.100.7' },
      ]),
    });
    const created = await fetch(url, {
      method: 'POST',
      headers: { Authorization: basic, 'Content-Type': f['Content-Type'] },
      body: f.body,
    });
    assert.deepEqual([created.status, await created.json()], [200, { message: 'Created 2 item(s).', status: true }]);
    const docs = sim.documents('DA-ESS-ThreatIntelligence', 'ip_intel');
    assert.equal(docs.length, 2);
    assert.equal(must(docs[0], 'docs[0]').domain, 'evil.example');
    assert.equal(must(docs[1], 'docs[1]').weight, 60, 'default weight');
    const got = await fetch(`${url}?item=${encodeURIComponent('{"domain":"evil.example"}')}`, {
      headers: { Authorization: basic },
    });
    assert.equal(
      must(
        ((await got.json()) as { message: { _key: string }[] }).message[0],
        '((await got.json()) as { message: { _key: string }[] }).m...',
      )._key,
      'i1',
    );
    const noImportant = await fetch(`${url}?item=${encodeURIComponent('{"description":"c2"}')}`, {
      headers: { Authorization: basic },
    });
    assert.deepEqual(
      [noImportant.status, await noImportant.json()],
      [400, { message: 'At least one of ip, domain is required', status: false }],
    );
    const del = await fetch(`${url}/i1`, { method: 'DELETE', headers: { Authorization: basic } });
    assert.deepEqual(await del.json(), { message: 'Deleted item i1.', status: true });
    const miss = await fetch(`${url}/i1`, { headers: { Authorization: basic } });
    assert.deepEqual(await miss.json(), { message: 'No matching entries found in kvstore.', status: false });
    const bad = await fetch(`${base}/services/data/threat_intel/item/domain_intel/x`, {
      headers: { Authorization: basic },
    });
    assert.equal(bad.status, 400);
    assert.equal(sim.documents('DA-ESS-ThreatIntelligence', 'ip_intel').length, 1);
  });
});
