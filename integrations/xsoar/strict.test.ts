import { strictCases } from '../../test/helpers/strict-kit.js';
import { XsoarSimulator } from './simulator.js';

/** What the XSOAR simulator refuses (or drops) as a server does (CONTRACT.md "Strict simulator"). */

const KEY = 'sim-key';

async function start(): Promise<{ base: string; close: () => Promise<void> }> {
  const sim = new XsoarSimulator({ keys: [{ key: KEY, id: 1 }], maxBodyBytes: 1 << 20, tenants: ['acme'] });
  const { base } = await sim.start();
  return { base, close: () => sim.close() };
}

const post =
  (path: string, body: unknown, headers: Record<string, string> = { Authorization: KEY }) =>
  (base: string) =>
    fetch(`${base}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
const feed = (indicators: unknown[]) => ({ indicators, bypassExclusionList: false });
const ips = (n: number) =>
  Array.from({ length: n }, (_, i) => ({ value: `10.0.${i >> 8}.${i & 255}`, type: 'IP', score: 1 }));

strictCases('XSOAR', start, [
  {
    name: 'a request without an API key (XSOAR 6)',
    source: 'SINK_APIS.md §6.1 (S52c demisto-py README 403 body)',
    send: post('/indicators/search', { size: 1 }, {}),
    status: 403,
    body: /"detail":"Issue with CSRF code"/,
  },
  {
    name: 'a wrong API key (XSOAR 6)',
    source: 'SINK_APIS.md §6.1 (S52c)',
    send: post('/indicators/search', { size: 1 }, { Authorization: 'wrong' }),
    status: 403,
    body: /"id":"forbidden"/,
  },
  {
    name: 'an XSOAR 8 request without x-xdr-auth-id',
    source: 'SINK_APIS.md §6.1 (S56, S52b) [UNCERTAIN status]',
    send: post('/xsoar/public/v1/indicators/search', { size: 1 }),
    status: 401,
    body: /"id":"unauthorized"/,
  },
  {
    name: 'an unknown tenant account',
    source: 'SINK_APIS.md §6.1 (S53, S54 /acc_<tenant>)',
    send: post('/acc_nope/indicators/search', { size: 1 }),
    status: 404,
    body: /account acc_nope does not exist/,
  },
  {
    name: 'a body that is not JSON',
    source: 'SINK_APIS.md §6.1 (OBS S57 "Request body is not well-formed. It must be JSON.")',
    send: post('/indicators/feed/json', '{"indicators":['),
    status: 400,
    body: /Request body is not well-formed\. It must be JSON\./,
  },
  {
    name: 'more than 2,000 indicators in one feed request',
    source: 'no vendor limit: our conservative ceiling (CONTRACT.md Limits)',
    send: post('/indicators/feed/json', feed(ips(2001))),
    status: 400,
    body: /Too many indicators in one request: 2001 \(max 2000\)/,
  },
  {
    name: "a body above the server's size limit",
    source: "no vendor limit documented: the simulator's maxBodyBytes",
    send: post('/indicators/feed/json', feed([{ value: 'x'.repeat(1 << 20), type: 'Domain' }])),
    status: 413,
    body: /"status":413/,
  },
  {
    name: 'a feed indicator without value',
    source: 'swagger /indicators/feed/json ("all optional except for value")',
    send: post('/indicators/feed/json', feed([{ type: 'IP' }])),
    status: 400,
    body: /indicators\[0\]: value is required/,
  },
  {
    name: 'a score outside 0-3',
    source: 'swagger /indicators/feed/json (score 0-3)',
    send: post('/indicators/feed/json', feed([{ value: '1.2.3.4', type: 'IP', score: 4 }])),
    status: 400,
    body: /indicators\[0\]: score must be 0-3/,
  },
  {
    name: "a reliability outside XSOAR's list",
    source: 'swagger /indicators/feed/json (reliability "A - Completely reliable" … "F - …")',
    send: post('/indicators/feed/json', feed([{ value: '1.2.3.4', type: 'IP', reliability: 'A' }])),
    status: 400,
    body: /indicators\[0\]: unknown reliability/,
  },
  {
    name: 'an interval expiration without expirationInterval',
    source: 'swagger /indicators/feed/json (expirationPolicy, expirationInterval in minutes)',
    send: post('/indicators/feed/json', feed([{ value: '1.2.3.4', type: 'IP', expirationPolicy: 'interval' }])),
    status: 400,
    body: /expirationInterval \(minutes\) is required/,
  },
  {
    name: 'an unknown indicator type',
    source: 'SINK_APIS.md §6.4 (indicator types of the server)',
    send: post('/indicators/feed/json', feed([{ value: '1.2.3.4', type: 'Ipv9' }])),
    status: 400,
    body: /indicators\[0\]/,
  },
  {
    name: 'a field the server does not define (dropped, the indicator stored)',
    source: "swagger #/definitions/CustomFields (keys are the server's fields) [UNCERTAIN list]",
    send: async (b) => {
      await post(
        '/indicators/feed/json',
        feed([{ value: '1.2.3.4', type: 'IP', fields: { tags: ['a'], nosuchfield: 'x' } }]),
      )(b);
      return post('/indicators/search', { query: 'value:"1.2.3.4"', size: 1 })(b);
    },
    status: 200,
    body: /^(?!.*nosuchfield).*"CustomFields":\{"tags":\["a"\]\}/,
  },
  {
    name: 'nothing for a search without size: it returns no indicators',
    source: 'swagger IndicatorFilter.size ("if not passed it defaults to 0, and no results will return")',
    send: post('/indicators/search', { query: '' }),
    status: 200,
    body: /"iocObjects":\[\]/,
  },
]);
