import { strictCases } from '../../test/helpers/strict-kit.js';
import { QradarSimulator, type QradarSimulatorOptions } from './simulator.js';

/** What the QRadar simulator refuses as a console does (CONTRACT.md "Strict simulator"). */

const SEC = { SEC: 'sec-token' };
const V = (v: string) => ({ ...SEC, Version: v });

function console(o: QradarSimulatorOptions): () => Promise<{ base: string; close: () => Promise<void> }> {
  return async () => {
    const sim = new QradarSimulator({
      tokens: ['sec-token', 'domain-user'],
      readOnlyTokens: ['reader'],
      access: { 'domain-user': { admin: false, domains: [2] } },
      domains: [0, 2, 3],
      maxBulkElements: 5,
      maxBodyBytes: 1 << 20,
      ...o,
    });
    const { base } = await sim.start();
    sim.store.create({ name: 'TI IPs', elementType: 'IP', expiry: 'UNKNOWN' }, Date.now());
    return { base, close: () => sim.close() };
  };
}

const call = (method: string, path: string, headers: Record<string, string>, body?: unknown) => (base: string) =>
  fetch(`${base}/api${path}`, {
    method,
    headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });

for (const version of ['12.0', '26.0']) {
  strictCases(`QRadar ${version}`, console({ apiVersion: version }), [
    {
      name: 'a legacy reference set of element type CIDR',
      source:
        'QRadar 26.0 OpenAPI /reference_data/sets POST element_type (ALN, ALNIC, IP, NUM, PORT, DATE); SINK_APIS.md §5.1 code 11',
      send: call('POST', '/reference_data/sets?name=nets&element_type=CIDR', V(version)),
      status: 422,
      body: /"code":11,.*element_type/,
    },
  ]);
}

strictCases('QRadar 12.0', console({ apiVersion: '12.0' }), [
  {
    name: 'reference_data_collections below API 16.0',
    source: 'SINK_APIS.md §5.5 (API ≥ 16, QRadar 7.4.3)',
    send: call('GET', '/reference_data_collections/sets', V('12.0')),
    status: 404,
    body: /"http_response":\{"code":404/,
  },
]);

strictCases('QRadar 26.0', console({ apiVersion: '26.0' }), [
  {
    name: 'a request without credentials',
    source: 'SINK_APIS.md §5.1 (S28; demisto S29 "No SEC header present in request")',
    send: call('GET', '/reference_data/sets', { Version: '26.0' }),
    status: 401,
    body: /No SEC header present in request/,
  },
  {
    name: 'an unknown SEC token',
    source: 'SINK_APIS.md §5.1, IBM error table 401',
    send: call('GET', '/reference_data/sets', { SEC: 'nope', Version: '26.0' }),
    status: 401,
    body: /"http_response":\{"code":401,"message":"You are unauthorized to access the requested resource\. Please log in\."\}/,
  },
  {
    name: "a write the token's user role lacks",
    source: 'QRadar 26.0 OpenAPI /help/endpoints caller_has_access; IBM error table 403',
    send: call('POST', '/reference_data/sets?name=x&element_type=IP', { SEC: 'reader', Version: '26.0' }),
    status: 403,
    body: /does not have the required capability/,
  },
  {
    name: 'a removed API version',
    source: 'SINK_APIS.md §5.1 (OBS S31 "has been removed and is no longer valid")',
    send: call('GET', '/reference_data/sets', V('3.0')),
    status: 422,
    body: /Version \(3\.0\) from header parameter \(Version\) has been removed/,
  },
  {
    name: 'bulk_load/{name}, removed in API 26.0',
    source: 'SINK_APIS.md §5.3 (S30 26.0 endpoint list)',
    send: call('POST', '/reference_data/sets/bulk_load/TI%20IPs', V('26.0'), ['1.2.3.4']),
    status: 410,
    body: /has been removed in version 26\.0/,
  },
  {
    name: 'a set name encoded twice',
    source: 'SINK_APIS.md §5.7 (names are decoded once)',
    send: call('POST', '/reference_data/sets/bulk_load/SHARED/TI%2520IPs/SHARED', V('26.0'), ['1.2.3.4']),
    status: 404,
    body: /"code":1002,"message":"TI%20IPs does not exist"/,
  },
  {
    name: 'an IPv6 address in an IP set',
    source: 'SINK_APIS.md §5.2, §5.7 (S32b: IP is IPv4 only; 422/1005)',
    send: call('POST', '/reference_data/sets/bulk_load/SHARED/TI%20IPs/SHARED', V('26.0'), ['2001:db8::1']),
    status: 422,
    body: /"code":1005/,
  },
  {
    name: "a bulk load above the console's element limit",
    source: "SINK_APIS.md §5.7 (no documented limit; 413 in IBM's error table)",
    send: call('POST', '/reference_data/sets/bulk_load/SHARED/TI%20IPs/SHARED', V('26.0'), [
      '1.1.1.1',
      '1.1.1.2',
      '1.1.1.3',
      '1.1.1.4',
      '1.1.1.5',
      '1.1.1.6',
    ]),
    status: 413,
    body: /"http_response":\{"code":413/,
  },
  {
    name: "a body above the console's size limit",
    source: 'IBM error table 413 (SINK_APIS.md §5.1)',
    send: call('PATCH', '/reference_data_collections/set_entries', V('26.0'), 'x'.repeat((1 << 20) + 1)),
    status: 413,
    body: /"http_response":\{"code":413/,
  },
  {
    name: 'a bulk load body that is not JSON',
    source: 'SINK_APIS.md §5.3 (400/1001)',
    send: call('POST', '/reference_data/sets/bulk_load/SHARED/TI%20IPs/SHARED', V('26.0'), '[1.2.3.4'),
    status: 400,
    body: /"code":1001/,
  },
  {
    name: 'the SHARED domain by a non-admin token',
    source:
      'QRadar 26.0 OpenAPI bulk_load/{namespace}/{name}/{domain_id} ("SHARED for Admin users") [UNCERTAIN status]',
    send: call(
      'POST',
      '/reference_data/sets/bulk_load/SHARED/TI%20IPs/SHARED',
      { SEC: 'domain-user', Version: '26.0' },
      ['1.2.3.4'],
    ),
    status: 403,
    body: /Only Admin users may use the SHARED domain/,
  },
  {
    name: 'a domain the token has no access to',
    source:
      'QRadar 26.0 OpenAPI bulk_load/{namespace}/{name}/{domain_id} 404 "Domain not found"; SINK_APIS.md §5.3 404/1011',
    send: call('POST', '/reference_data/sets/bulk_load/SHARED/TI%20IPs/3', { SEC: 'domain-user', Version: '26.0' }, [
      '1.2.3.4',
    ]),
    status: 404,
    body: /"code":1011/,
  },
  {
    name: 'a set entry with a domain the token cannot use',
    source:
      'QRadar 26.0 OpenAPI /reference_data_collections/set_entries PATCH 422 "An invalid domain ID was specified"',
    send: call('PATCH', '/reference_data_collections/set_entries', { SEC: 'domain-user', Version: '26.0' }, [
      { collection_id: 1, value: '1.2.3.4', domain_id: 3 },
    ]),
    status: 422,
    body: /"code":23005/,
  },
  {
    name: 'a set in the TENANT namespace by a user without a tenant',
    source: 'SINK_APIS.md §5.5 (422/10003–10005 namespace/tenant)',
    send: call('POST', '/reference_data_collections/sets', V('26.0'), {
      name: 't',
      entry_type: 'IP',
      namespace: 'TENANT',
      tenant_id: 1,
    }),
    status: 422,
    body: /"code":10003/,
  },
  {
    name: 'a collections set without entry_type',
    source: 'SINK_APIS.md §5.5 (422/10001); OpenAPI "Both name and entry_type are required"',
    send: call('POST', '/reference_data_collections/sets', V('26.0'), { name: 'x' }),
    status: 422,
    body: /"code":10001/,
  },
  {
    name: 'an unknown field of a collections set (ignored, not stored)',
    source: 'QRadar 26.0 OpenAPI /reference_data_collections/sets POST ("All other fields will be ignored")',
    send: call('POST', '/reference_data_collections/sets', V('26.0'), { name: 'y', entry_type: 'IP', colour: 'red' }),
    status: 201,
    body: /^(?!.*colour).*"name":"y"/,
  },
  {
    name: 'nothing for a request without Version: it is served by the newest API',
    source: 'SINK_APIS.md §5.1 ("No header ⇒ latest version"); the sink tests fail any request sent without Version',
    send: call('GET', '/reference_data_collections/sets', SEC),
    status: 200,
    body: /"name":"TI IPs"/,
  },
]);
