import { strictCases } from '../../test/helpers/strict-kit.js';
import { SplunkSimulator } from './simulator.js';

/** What the Splunk simulator refuses as splunkd does (CONTRACT.md "Strict simulator"). */

const HEC = '11111111-2222-3333-4444-555555555555';
const BASIC = { authorization: `Basic ${Buffer.from('admin:changeme').toString('base64')}` };
const KV = '/servicesNS/nobody/search/storage/collections';

async function start(): Promise<{ base: string; close: () => Promise<void> }> {
  const sim = new SplunkSimulator({
    maxDocumentsPerBatchSave: 10,
    maxSizePerBatchSaveMb: 1,
    maxEventSize: 1000,
    maxContentLength: 4 << 20,
    hecTokens: { [HEC]: { indexes: ['threat_intel'] } },
  });
  const { base } = await sim.start();
  sim.kv.create('nobody', 'search', 'iocs', new URLSearchParams({ 'field.score': 'number' }));
  return { base, close: () => sim.close() };
}

const post =
  (path: string, body: string, headers: Record<string, string> = BASIC) =>
  (base: string) =>
    fetch(`${base}${path}`, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });
const docs = (n: number, extra: Record<string, unknown> = {}) =>
  JSON.stringify(Array.from({ length: n }, (_, i) => ({ _key: `k${i}`, ...extra })));

strictCases('Splunk', start, [
  {
    name: 'an app that is not installed',
    source: 'no vendor document: splunkd namespace behaviour',
    send: (b) =>
      fetch(`${b}/servicesNS/nobody/no_such_app/storage/collections/config?output_mode=json`, { headers: BASIC }),
    status: 404,
    body: /"text":"Application does not exist: no_such_app"/,
  },
  {
    name: 'a collection that does not exist',
    source: 'SINK_APIS.md §2.2 (data endpoints of an existing collection) [UNCERTAIN text]',
    send: post(`${KV}/data/no_such_collection/batch_save`, docs(1)),
    status: 404,
    body: /"type":"ERROR","text":"Collection: no_such_collection does not exist"/,
  },
  {
    name: 'a batch_save above max_documents_per_batch_save',
    source: 'SINK_APIS.md §2.3 limits.conf [kvstore]',
    send: post(`${KV}/data/iocs/batch_save`, docs(11)),
    status: 400,
    body: /Request exceeds API limits.*max=10/,
  },
  {
    name: 'a batch_save above max_size_per_batch_save_mb',
    source: 'SINK_APIS.md §2.3 limits.conf [kvstore]',
    send: post(`${KV}/data/iocs/batch_save`, docs(2, { pad: 'x'.repeat(600_000) })),
    status: 400,
    body: /max_size_per_batch_save_mb=1/,
  },
  {
    name: 'a request above max_content_length',
    source: 'SINK_APIS.md §3.5 limits.conf [http_input] (413 [UNCERTAIN])',
    send: post(`${KV}/data/iocs/batch_save`, 'x'.repeat(5 << 20)),
    status: 413,
    body: /"type":"ERROR"/,
  },
  {
    name: 'a field name with "."',
    source: 'SINK_APIS.md §2.2 (OpenCTI S5: KV keys cannot contain ".")',
    send: post(`${KV}/data/iocs/batch_save`, JSON.stringify([{ _key: 'a', 'x.y': 1 }])),
    status: 400,
    body: /Field names may not contain .{1,3}\..{1,3} or start with/,
  },
  {
    name: 'a value of the wrong type (dropped, the rest of the document kept, without enforceTypes)',
    source:
      'SINK_APIS.md §2.1 collections.conf.spec enforceTypes ("invalid insert operations drop only the invalid field")',
    send: async (b) => {
      await post(`${KV}/data/iocs/batch_save`, JSON.stringify([{ _key: 'a', score: 'high', name: 'x' }]))(b);
      return fetch(`${b}${KV}/data/iocs/a`, { headers: BASIC });
    },
    status: 200,
    body: /^\{"_key":"a","name":"x","_user":"nobody"\}$/,
  },
  {
    name: 'a batch_save body that is not a JSON array',
    source: 'SINK_APIS.md §2.2 (batch_save takes an array)',
    send: post(`${KV}/data/iocs/batch_save`, '{"_key":"a"}'),
    status: 400,
    body: /must be a JSON array/,
  },
  {
    name: 'a request without credentials',
    source: 'SINK_APIS.md §1.1 (OBS S32)',
    send: post(`${KV}/data/iocs/batch_save`, docs(1), {}),
    status: 401,
    body: /call not properly authenticated/,
  },
  {
    name: 'a wrong password',
    source: 'SINK_APIS.md §1.1',
    send: post(`${KV}/data/iocs/batch_save`, docs(1), {
      authorization: `Basic ${Buffer.from('admin:wrong').toString('base64')}`,
    }),
    status: 401,
    body: /call not properly authenticated/,
  },
  {
    name: 'an unknown Bearer token',
    source: 'SINK_APIS.md §1.1',
    send: post(`${KV}/data/iocs/batch_save`, docs(1), { authorization: 'Bearer nope' }),
    status: 401,
    body: /call not properly authenticated/,
  },
  {
    name: 'an ES collection outside the nine',
    source: 'SINK_APIS.md §4.1 ("the API allows exactly these")',
    send: (b) =>
      fetch(`${b}/services/data/threat_intel/item/domain_intel`, {
        method: 'POST',
        body: new URLSearchParams({ item: '[{"domain":"a.example"}]' }),
        headers: BASIC,
      }),
    status: 400,
    body: /Invalid threat intel collection: domain_intel/,
  },
  {
    name: 'HEC without a token',
    source: 'SINK_APIS.md §3.2, §3.6 code 2',
    send: post('/services/collector/event', '{"event":"x"}', {}),
    status: 401,
    body: /"code":2/,
  },
  {
    name: 'HEC with a header without the Splunk scheme',
    source: 'SINK_APIS.md §3.2, §3.6 code 3',
    send: post('/services/collector/event', '{"event":"x"}', { authorization: HEC }),
    status: 401,
    body: /"code":3/,
  },
  {
    name: 'HEC with an unknown token',
    source: 'SINK_APIS.md §3.2, §3.6 code 4',
    send: post('/services/collector/event', '{"event":"x"}', {
      authorization: 'Splunk 00000000-0000-0000-0000-000000000000',
    }),
    status: 403,
    body: /"code":4/,
  },
  {
    name: 'HEC to an index the token may not write',
    source: 'SINK_APIS.md §3.3, §3.6 code 7',
    send: post('/services/collector/event', '{"event":"x","index":"main"}', { authorization: `Splunk ${HEC}` }),
    status: 400,
    body: /"code":7,"invalid-event-number":0/,
  },
  {
    name: 'an HEC event above maxEventSize',
    source: 'SINK_APIS.md §3.5 inputs.conf maxEventSize',
    send: post('/services/collector/event', JSON.stringify({ event: 'x'.repeat(2000) }), {
      authorization: `Splunk ${HEC}`,
    }),
    status: 400,
    body: /"code":6,"invalid-event-number":0/,
  },
  {
    name: 'an HEC JSON array body',
    source: 'SINK_APIS.md §3.3 (stacked objects, arrays [UNCERTAIN] → code 6)',
    send: post('/services/collector/event', '[{"event":"x"}]', { authorization: `Splunk ${HEC}` }),
    status: 400,
    body: /"code":6/,
  },
]);
