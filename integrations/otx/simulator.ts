/**
 * A loopback simulator of the AlienVault OTX API for tests: `GET /api/v1/pulses/subscribed`
 * (`limit`, `page`, `modified_since`; absolute `next` links like the real service; pulses newest
 * `modified` first), `GET /api/v1/users/me`, the `X-OTX-API-KEY` header (missing or wrong → 403
 * `{"detail": "Authentication required"}`). Scripted faults are served first, one per request;
 * `nextOverride` replaces the `next` link of the next answer (to test links off the configured origin).
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { SimFault, SimRecord, SimRequest } from '../sim-kit.js';
import { closeServer } from '../loopback-server.js';
import { sendJson, serveWithBody } from '../sim-kit.js';

const otxTime = (ms: number): string => new Date(ms).toISOString().replace('Z', '000');

/** An OTX indicator record shaped like the real ones. */
export function makeOtxIndicator(id: number, type: string, indicator: string, createdMs: number): SimRecord {
  return {
    id,
    indicator,
    type,
    created: otxTime(createdMs).slice(0, 19),
    content: '',
    title: null,
    description: null,
    expiration: null,
    is_active: 1,
    role: null,
  };
}

/** A subscribed pulse with indicators, malware families, ATT&CK ids, TLP and references. */
export function makePulse(i: number, modifiedMs: number, indicators: SimRecord[]): SimRecord {
  return {
    id: (0x60c8a4e0 + i).toString(16).padStart(24, '0'),
    name: `Pulse ${i}: Mozi botnet infrastructure`,
    description: 'IOCs from a Mozi campaign',
    author_name: 'AlienVault',
    modified: otxTime(modifiedMs),
    created: otxTime(modifiedMs - 3_600_000),
    revision: 1,
    tlp: 'white',
    public: 1,
    adversary: '',
    targeted_countries: [],
    industries: [],
    tags: ['Mozi', 'IoT'],
    references: ['https://blog.example.org/mozi'],
    malware_families: [{ id: 'Mozi', display_name: 'Mozi', target: null }],
    attack_ids: [
      {
        id: 'T1059',
        name: 'Command and Scripting Interpreter',
        display_name: 'T1059 - Command and Scripting Interpreter',
      },
    ],
    indicators,
  };
}

export class OtxSimulator {
  readonly pulses: SimRecord[] = [];
  readonly requests: SimRequest[] = [];
  readonly faults: SimFault[] = [];
  nextOverride?: string;
  private server?: Server;
  base = '';

  constructor(private readonly apiKey: string) {}

  async start(): Promise<this> {
    ({ server: this.server, base: this.base } = await serveWithBody((req, _body, res) => this.handle(req, res)));
    return this;
  }

  async close(): Promise<void> {
    await closeServer(this.server);
  }

  private json(res: ServerResponse, status: number, body: unknown): void {
    sendJson(res, status, body);
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const u = new URL(req.url ?? '/', this.base);
    this.requests.push({
      method: req.method ?? 'GET',
      path: `${u.pathname}${u.search}`,
      headers: req.headers,
      body: '',
      at: Date.now(),
    });
    const fault = this.faults.shift();
    if (fault) {
      res.writeHead(fault.status, { 'content-type': 'application/json', ...fault.headers });
      res.end(fault.body ?? '');
      return;
    }
    if (req.headers['x-otx-api-key'] !== this.apiKey) {
      this.json(res, 403, { detail: 'Authentication required' });
      return;
    }
    if (u.pathname === '/api/v1/users/me') {
      this.json(res, 200, { username: 'stixgate-test', member_since: '2021-01-01' });
      return;
    }
    if (u.pathname !== '/api/v1/pulses/subscribed') {
      this.json(res, 404, { detail: 'Not found.' });
      return;
    }
    const limit = Math.min(500, Number(u.searchParams.get('limit') ?? 50));
    const page = Math.max(1, Number(u.searchParams.get('page') ?? 1));
    const since = u.searchParams.get('modified_since');
    const sinceMs = since ? Date.parse(/Z|[+-]\d\d:?\d\d$/.test(since) ? since : `${since}Z`) : -Infinity;
    const t = (p: SimRecord) => Date.parse(`${String(p.modified).slice(0, 23)}Z`);
    const all = this.pulses.filter((p) => t(p) >= sinceMs).sort((a, b) => t(b) - t(a));
    const results = all.slice((page - 1) * limit, page * limit);
    let next: string | null = null;
    if (page * limit < all.length) {
      const q = new URLSearchParams(u.searchParams);
      q.set('page', String(page + 1));
      next = `${this.base}/api/v1/pulses/subscribed?${q}`;
    }
    if (this.nextOverride !== undefined) {
      next = this.nextOverride;
      this.nextOverride = undefined;
    }
    const prev = page > 1 ? `${this.base}/api/v1/pulses/subscribed?page=${page - 1}` : null;
    this.json(res, 200, { count: all.length, next, previous: prev, results });
  }
}
