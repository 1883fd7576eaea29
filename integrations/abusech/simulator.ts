/**
 * A loopback simulator of the abuse.ch JSON APIs, for tests: URLhaus (`/urlhaus/v1/…`), ThreatFox
 * (`/threatfox/api/v1/`) and MalwareBazaar (`/bazaar/api/v1/`) on one node:http server. It follows
 * the documented APIs: the `Auth-Key` header (missing → HTTP 401, wrong → `unknown_auth_key`,
 * malformed → `illegal_auth_key`), `urls/recent[/limit/N]/` and `payloads/recent[/limit/N]/`
 * (GET), ThreatFox `{"query":"get_iocs","days":N}` (JSON POST, `no_result` when empty) and
 * MalwareBazaar `query=get_recent&selector=time|100` (form POST, `no_results` when empty).
 * Scripted faults (status, headers, body) are served first, one per request.
 */
import { first, group } from '../../src/core/indexed.js';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { closeServer } from '../loopback-server.js';
import { sendJson, serveWithBody, type SimFault, type SimRecord, type SimRequest } from '../sim-kit.js';

export interface AbusechSimulatorOptions {
  authKey: string;
  /** The simulator's clock (ThreatFox `days`, MalwareBazaar `selector=time`). */
  now?: () => number;
}

const abuseTime = (ms: number, utc = true): string =>
  `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')}${utc ? ' UTC' : ''}`;

/** A URLhaus `urls/recent` record shaped like the real ones. */
export function makeUrlRecord(i: number, addedMs: number): SimRecord {
  const id = String(900_000 + i);
  return {
    id,
    urlhaus_reference: `https://urlhaus.abuse.ch/url/${id}/`,
    url: `http://198.51.100.${i % 250}:${30000 + i}/Mozi.m`,
    url_status: 'online',
    host: `198.51.100.${i % 250}`,
    date_added: abuseTime(addedMs),
    threat: 'malware_download',
    blacklists: { spamhaus_dbl: 'not listed', surbl: 'not listed' },
    reporter: 'lrz_urlhaus',
    larted: 'false',
    tags: ['elf', 'Mozi'],
  };
}

const hex = (seed: string, len: number): string => {
  let out = '';
  let h = 2166136261;
  while (out.length < len) {
    for (const c of `${seed}:${out.length}`) h = Math.imul(h ^ c.charCodeAt(0), 16777619) >>> 0;
    out += h.toString(16).padStart(8, '0');
  }
  return out.slice(0, len);
};

/** A URLhaus `payloads/recent` record. */
export function makePayloadRecord(i: number, firstMs: number): SimRecord {
  const sha = hex(`payload${i}`, 64);
  return {
    md5_hash: hex(`payload-md5${i}`, 32),
    sha256_hash: sha,
    file_type: 'exe',
    file_size: String(1000 + i),
    signature: i % 2 ? 'AgentTesla' : null,
    firstseen: abuseTime(firstMs, false),
    urlhaus_download: `https://urlhaus-api.abuse.ch/v1/download/${sha}/`,
    virustotal: null,
    imphash: hex(`imp${i}`, 32),
    ssdeep: '6144:abc:def',
    tlsh: hex(`tlsh${i}`, 70).toUpperCase(),
  };
}

/** A ThreatFox `get_iocs` record. */
export function makeIocRecord(
  i: number,
  firstMs: number,
  kind: 'ip:port' | 'domain' | 'url' | 'sha256_hash' = 'ip:port',
): SimRecord {
  const ioc =
    kind === 'ip:port'
      ? `203.0.113.${i % 250}:${50000 + i}`
      : kind === 'domain'
        ? `c2-${i}.example.net`
        : kind === 'url'
          ? `https://c2-${i}.example.org/gate.php`
          : hex(`ioc${i}`, 64);
  return {
    id: String(115_000 + i),
    ioc,
    threat_type: 'botnet_cc',
    threat_type_desc: 'Indicator that identifies a botnet command&control server (C&C)',
    ioc_type: kind,
    ioc_type_desc: 'ip:port combination that is used for botnet Command&control (C&C)',
    malware: 'elf.mozi',
    malware_printable: 'Mozi',
    malware_alias: null,
    malware_malpedia: 'https://malpedia.caad.fkie.fraunhofer.de/details/elf.mozi',
    confidence_level: 75,
    first_seen: abuseTime(firstMs),
    last_seen: null,
    reference: null,
    reporter: 'abuse_ch',
    tags: ['Mozi'],
  };
}

/** A MalwareBazaar `get_recent` record. */
export function makeSampleRecord(i: number, firstMs: number): SimRecord {
  return {
    sha256_hash: hex(`sample${i}`, 64),
    sha3_384_hash: hex(`s3${i}`, 96),
    sha1_hash: hex(`s1${i}`, 40),
    md5_hash: hex(`m5${i}`, 32),
    first_seen: abuseTime(firstMs, false),
    last_seen: null,
    file_name: `Mozi.${i}`,
    file_size: 123164,
    file_type_mime: 'application/x-executable',
    file_type: 'elf',
    reporter: 'tolisec',
    anonymous: 0,
    signature: 'Mozi',
    imphash: null,
    tlsh: null,
    telfhash: null,
    ssdeep: null,
    tags: ['Mozi'],
    code_sign: [],
    intelligence: { clamav: null, downloads: '65', uploads: '1', mail: null },
  };
}

function recordTime(r: SimRecord): number {
  const t = String(r.date_added ?? r.firstseen ?? r.first_seen ?? '')
    .replace(' UTC', '')
    .replace(' ', 'T');
  return Date.parse(`${t}Z`);
}

const newestFirst = (list: SimRecord[]): SimRecord[] => [...list].sort((a, b) => recordTime(b) - recordTime(a));

export class AbusechSimulator {
  readonly urls: SimRecord[] = [];
  readonly payloads: SimRecord[] = [];
  readonly iocs: SimRecord[] = [];
  readonly samples: SimRecord[] = [];
  readonly requests: SimRequest[] = [];
  readonly faults: SimFault[] = [];
  private server?: Server;
  private readonly now: () => number;
  base = '';

  constructor(private readonly opts: AbusechSimulatorOptions) {
    this.now = opts.now ?? Date.now;
  }

  async start(): Promise<this> {
    ({ server: this.server, base: this.base } = await serveWithBody((req, body, res) => this.handle(req, body, res)));
    return this;
  }

  async close(): Promise<void> {
    await closeServer(this.server);
  }

  private json(res: ServerResponse, status: number, body: unknown): void {
    sendJson(res, status, body);
  }

  private handle(req: IncomingMessage, body: string, res: ServerResponse): void {
    const path = first((req.url ?? '/').split('?'));
    this.requests.push({ method: req.method ?? 'GET', path, headers: req.headers, body, at: Date.now() });
    const fault = this.faults.shift();
    if (fault?.reset) {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
      res.write('{"query_status":"ok","da');
      setTimeout(() => req.socket.destroy(), 10);
      return;
    }
    if (fault) {
      res.writeHead(fault.status, { 'content-type': 'application/json', ...fault.headers });
      res.end(fault.body ?? '');
      return;
    }
    const key = req.headers['auth-key'];
    if (key === undefined) {
      this.json(res, 401, { query_status: 'unknown_auth_key' });
      return;
    }
    if (typeof key !== 'string' || !/^[0-9a-f]{1,64}$/i.test(key)) {
      this.json(res, 200, { query_status: 'illegal_auth_key' });
      return;
    }
    if (key !== this.opts.authKey) {
      this.json(res, 200, { query_status: 'unknown_auth_key' });
      return;
    }

    const m = /^\/urlhaus\/v1\/(urls|payloads)\/recent\/(?:limit\/(\d+)\/)?$/.exec(path);
    if (m) {
      const limit = Math.min(1000, Number(m[2] ?? 1000));
      const list = newestFirst(m[1] === 'urls' ? this.urls : this.payloads).slice(0, limit);
      this.json(res, 200, list.length ? { query_status: 'ok', [group(m, 1)]: list } : { query_status: 'no_results' });
      return;
    }
    if (path === '/threatfox/api/v1/') {
      if (req.method !== 'POST') {
        this.json(res, 200, { query_status: 'http_post_expected' });
        return;
      }
      let q: { query?: string; days?: number };
      try {
        q = JSON.parse(body);
      } catch {
        this.json(res, 200, { query_status: 'illegal_query' });
        return;
      }
      if (q.query !== 'get_iocs') {
        this.json(res, 200, { query_status: 'unknown_query' });
        return;
      }
      const days = q.days;
      if (days === undefined || !Number.isInteger(days) || days < 1 || days > 7) {
        this.json(res, 200, { query_status: 'illegal_days' });
        return;
      }
      const from = this.now() - days * 86_400_000;
      const list = newestFirst(this.iocs).filter((r) => recordTime(r) >= from);
      this.json(res, 200, list.length ? { query_status: 'ok', data: list } : { query_status: 'no_result' });
      return;
    }
    if (path === '/bazaar/api/v1/') {
      if (req.method !== 'POST') {
        this.json(res, 200, { query_status: 'http_post_expected' });
        return;
      }
      const form = new URLSearchParams(body);
      if (form.get('query') !== 'get_recent') {
        this.json(res, 200, { query_status: 'unknown_query' });
        return;
      }
      const selector = form.get('selector') ?? '100';
      if (selector !== 'time' && selector !== '100') {
        this.json(res, 200, { query_status: 'unknown_selector' });
        return;
      }
      let list = newestFirst(this.samples);
      list = selector === 'time' ? list.filter((r) => recordTime(r) >= this.now() - 3_600_000) : list.slice(0, 100);
      this.json(res, 200, list.length ? { query_status: 'ok', data: list } : { query_status: 'no_results' });
      return;
    }
    this.json(res, 404, { query_status: 'unknown_endpoint' });
  }
}
