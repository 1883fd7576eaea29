import { group } from '../../src/core/indexed.js';
import { errorMessage } from '../../src/core/errors.js';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { LoopbackSimulator, logBounded, readBody, simControl, sleep, type HttpFault } from '../sim-kit.js';
import { applyFilter, ok, page, parseRange, project, qerror, type SimResponse } from './sim-http.js';
import { Versions } from './sim-version.js';
import { RefStore, formatInterval, type Element, type RefSet } from './sim-store.js';
import { Tasks, type SimContext } from './sim-context.js';
import { legacySets } from './sim-legacy.js';
import { collections } from './sim-collections.js';
import { DomainCheck, ENDPOINTS, roleRefusal, templateOf, type TokenAccess } from './sim-access.js';

/**
 * An IBM QRadar console simulator on 127.0.0.1 (IBM's QRadar REST API documentation): `SEC` token and Basic auth,
 * `Version` negotiation, `Range` paging, `filter`/`fields`, the legacy `reference_data/sets` API and
 * `reference_data_collections` (sets, entries, asynchronous bulk updates), QRadar error bodies,
 * element types and TTL ageing. Fault injection and inspection as methods and under /__sim/.
 */

export interface QradarSimulatorOptions {
  /** Authorized service tokens accepted in the `SEC` header (default ["sec-token"]). */
  tokens?: string[];
  /** Tokens that may read but not write (writes → 403). */
  readOnlyTokens?: string[];
  /** Basic-auth users (default admin/changeme). */
  users?: Record<string, string>;
  /** What each token or Basic user may do (default: an Admin with every endpoint and domain). */
  access?: Record<string, TokenAccess>;
  /** The console's domains (default [0], the default domain). */
  domains?: number[];
  /** The console's newest API version (default "26.0", QRadar 7.5.0 UP12; "12.0" for an old console). */
  apiVersion?: string;
  /** Versions answered as removed (default 1.0–5.0). */
  removedVersions?: string[];
  /** Clock (epoch ms) for first_seen/last_seen and TTL ageing (default Date.now). */
  now?: () => number;
  /** Longest value accepted (default 4096 characters) [UNCERTAIN: QRadar's limit is not documented]. */
  maxValueLength?: number;
  /** Largest bulk_load / PATCH accepted (default unlimited, as documented); more → 413. */
  maxBulkElements?: number;
  /** Largest request body in bytes (default 64 MiB); more → 413. */
  maxBodyBytes?: number;
  /** Time an asynchronous bulk task stays QUEUED before it runs (default 0). */
  taskDelayMs?: number;
  /**
   * Work time of adding n elements in one request, serialised per set: requestMs + n·perElementUs +
   * growthNsPerElement·n(n−1)/2 (each element costs more than the one before, as collision warnings
   * do). The best chunk is then about √(2·requestMs / growth).
   */
  bulkLatency?: { requestMs?: number; perElementUs?: number; growthNsPerElement?: number };
  /** When set, bulk latency advances this virtual clock instead of sleeping (deterministic tests). */
  virtualLatency?: (ms: number) => void;
  /** `/system/about` external_version (default derived from apiVersion). */
  externalVersion?: string;
  /** Requests kept for inspection (default 20,000; older ones are dropped). */
  maxLoggedRequests?: number;
  /** Called with every exchange (not /__sim/): the fidelity test checks them against the OpenAPI document. */
  onExchange?: (x: Exchange) => void;
}

export interface Exchange {
  method: string;
  /** Raw path (URL-encoded as sent) and query string. */
  path: string;
  query: string;
  headers: Record<string, string>;
  requestBody: Buffer;
  status: number;
  responseBody: unknown;
  /** The API version the request was served with (undefined when the Version header was refused). */
  servedVersion?: string;
}

export type FaultTarget = 'legacy' | 'collections' | 'other' | 'any';

export interface Fault extends HttpFault<FaultTarget> {
  /** Only requests with this method (e.g. PATCH). */
  method?: string;
  /** Only requests whose raw path contains this (e.g. "bulk_load", "set_entries"). */
  pathIncludes?: string;
  /** bulk_load: store the first n values then answer 500/1020; PATCH: the task fails the entries after n. */
  partialAccept?: number;
}

export interface LoggedRequest {
  method: string;
  /** Raw path as sent (still URL-encoded). */
  path: string;
  query: string;
  auth: 'SEC' | 'Basic' | '';
  version?: string;
  range?: string;
  bytes: number;
  status: number;
}

export class QradarSimulator extends LoopbackSimulator<Fault> {
  readonly store: RefStore;
  readonly tasks = new Tasks();
  readonly versions: Versions;
  readonly requests: LoggedRequest[] = [];
  private readonly tokens: Set<string>;
  private readonly readOnly: Set<string>;
  private readonly users: Map<string, string>;
  private readonly revoked = new Set<string>();
  private readonly queues = new Map<number, Promise<void>>();
  readonly now: () => number;

  constructor(private readonly opts: QradarSimulatorOptions = {}) {
    super({ target: 'any' });
    this.tokens = new Set(opts.tokens ?? ['sec-token']);
    this.readOnly = new Set(opts.readOnlyTokens ?? []);
    for (const t of this.readOnly) this.tokens.add(t);
    this.users = new Map(Object.entries(opts.users ?? { admin: 'changeme' }));
    this.versions = new Versions(opts.apiVersion ?? '26.0', opts.removedVersions);
    this.now = opts.now ?? Date.now;
    this.store = new RefStore(opts.maxValueLength ?? 4096);
  }

  // ---- fault injection (inject, clearFaults: LoopbackSimulator) --------------------------------

  /** Revokes a SEC token or a Basic-auth user name (→ 401). */
  revoke(credential: string): void {
    this.revoked.add(credential);
  }

  // ---- inspection ------------------------------------------------------------------------------

  sets(): {
    id: number;
    name: string;
    element_type: string;
    time_to_live?: string;
    timeout_type: string;
    size: number;
  }[] {
    const now = this.now();
    return [...this.store.sets.values()].map((s) => {
      this.store.sweep(s, now);
      return {
        id: s.id,
        name: s.name,
        element_type: s.elementType,
        ...(s.ttl ? { time_to_live: formatInterval(s.ttl) } : {}),
        timeout_type: s.expiry,
        size: s.elements.size,
      };
    });
  }

  set(name: string): RefSet | undefined {
    const s = this.store.byName(name);
    if (s) this.store.sweep(s, this.now());
    return s;
  }

  /** The values of a set (after TTL ageing), in insertion order; [] for an unknown set. */
  values(name: string): string[] {
    return this.elements(name).map((e) => e.value);
  }

  elements(name: string): Element[] {
    return [...(this.set(name)?.elements.values() ?? [])];
  }

  // ---- request handling ------------------------------------------------------------------------

  private takeFault(target: FaultTarget, method: string, path: string): Fault | undefined {
    return this.faultQueue.take(
      (f) =>
        (f.target === 'any' || f.target === target) &&
        (!f.method || f.method === method) &&
        (!f.pathIncludes || path.includes(f.pathIncludes)),
    );
  }

  private latency(set: RefSet, n: number): Promise<void> {
    const l = this.opts.bulkLatency;
    if (!l) return Promise.resolve();
    const ms =
      (l.requestMs ?? 0) + (n * (l.perElementUs ?? 0)) / 1000 + ((l.growthNsPerElement ?? 0) * n * (n - 1)) / 2 / 1e6;
    if (this.opts.virtualLatency) {
      this.opts.virtualLatency(ms);
      return Promise.resolve();
    }
    const p = (this.queues.get(set.id) ?? Promise.resolve()).then(() => sleep(ms));
    this.queues.set(set.id, p);
    return p;
  }

  private log(entry: LoggedRequest): void {
    logBounded(this.requests, entry, this.opts.maxLoggedRequests ?? 20_000);
  }

  protected override async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const maxBody = this.opts.maxBodyBytes ?? 64 * 1024 * 1024;
    const { raw, size } = await readBody(req, maxBody);
    const rawUrl = req.url ?? '/';
    const qi = rawUrl.indexOf('?');
    const rawPath = qi < 0 ? rawUrl : rawUrl.slice(0, qi);
    const query = qi < 0 ? '' : rawUrl.slice(qi);
    const method = req.method ?? 'GET';
    const h = (n: string) => (req.headers[n] as string | undefined) ?? undefined;
    const target: FaultTarget = rawPath.startsWith('/api/reference_data/')
      ? 'legacy'
      : rawPath.startsWith('/api/reference_data_collections/')
        ? 'collections'
        : 'other';
    const simApi = rawPath.startsWith('/__sim/');
    const fault = simApi ? undefined : this.takeFault(target, method, rawPath);
    const entry: LoggedRequest = {
      method,
      path: rawPath,
      query,
      auth: h('sec') !== undefined ? 'SEC' : /^Basic /i.test(h('authorization') ?? '') ? 'Basic' : '',
      version: h('version'),
      range: h('range'),
      bytes: raw.length,
      status: 0,
    };
    if (!simApi) this.log(entry);
    if (fault?.delayMs) await sleep(fault.delayMs);
    let r: SimResponse;
    if (simApi) r = this.simApi(method, rawPath);
    else if (fault?.status) {
      r = qerror(
        fault.status,
        fault.status === 503 ? 0 : fault.status >= 500 ? 1020 : 0,
        fault.status === 429 ? 'Too many requests' : `Injected failure (${fault.status})`,
        'Injected by the simulator.',
      );
      if (fault.retryAfter !== undefined) r.headers = { 'Retry-After': String(fault.retryAfter) };
    } else if (size > maxBody) r = qerror(413, 0, `Request body of ${size} bytes exceeds ${maxBody}`);
    else {
      try {
        r = await this.route(method, rawPath, new URLSearchParams(query), raw, h, fault?.partialAccept);
      } catch (e) {
        r = qerror(500, 1020, `simulator error: ${errorMessage(e)}`);
      }
    }
    entry.status = r.status;
    if (!simApi && this.opts.onExchange) {
      const served = this.versions.negotiate(h('version'));
      const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)]));
      this.opts.onExchange({
        method,
        path: rawPath,
        query,
        headers,
        requestBody: raw,
        status: r.status,
        responseBody: r.body,
        servedVersion: typeof served === 'string' ? served : undefined,
      });
    }
    if (fault?.dropAfterHandling) {
      entry.status = -1;
      req.socket.destroy();
      return;
    }
    const body = r.body === undefined || r.status === 204 ? undefined : JSON.stringify(r.body);
    res.writeHead(r.status, {
      ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}),
      ...(r.headers ?? {}),
    });
    res.end(body);
  }

  private authenticate(
    h: (n: string) => string | undefined,
  ): { user: string; write: boolean; access: TokenAccess } | undefined {
    const sec = h('sec');
    if (sec !== undefined)
      return this.tokens.has(sec) && !this.revoked.has(sec)
        ? { user: 'api-token', write: !this.readOnly.has(sec), access: this.opts.access?.[sec] ?? {} }
        : undefined;
    const m = /^Basic\s+(.+)$/i.exec(h('authorization') ?? '');
    if (!m) return undefined;
    const dec = Buffer.from(group(m, 1), 'base64').toString('utf8');
    const i = dec.indexOf(':');
    const user = dec.slice(0, i);
    return i > 0 && !this.revoked.has(user) && this.users.get(user) === dec.slice(i + 1)
      ? { user, write: true, access: this.opts.access?.[user] ?? {} }
      : undefined;
  }

  private async route(
    method: string,
    rawPath: string,
    q: URLSearchParams,
    raw: Buffer,
    h: (n: string) => string | undefined,
    partialAccept?: number,
  ): Promise<SimResponse> {
    const who = this.authenticate(h);
    if (!who) {
      const none = h('sec') === undefined && h('authorization') === undefined;
      return qerror(
        401,
        0,
        none
          ? 'No SEC header present in request. Please provide it via "SEC: token". You may also use BASIC authentication parameters if this host supports it. e.g. "Authorization: Basic base64Encoding"'
          : 'The credentials provided are not valid.',
        'Authentication failed.',
      );
    }
    const version = this.versions.negotiate(h('version'));
    if (typeof version !== 'string') return version;
    let once: string;
    try {
      once = decodeURIComponent(rawPath);
    } catch {
      return qerror(400, 0, 'The request path is not valid URL encoding.');
    }
    const segs = once.split('/').filter((s, i) => i > 0 || s !== '');
    if (segs[0] !== 'api') return qerror(404, 0, 'We could not find the resource you requested.');
    const rest = segs.slice(1);
    if (rest[rest.length - 1] === '') rest.pop();
    const template = templateOf(method, rest);
    const refused = roleRefusal({ write: who.write, denied: who.access.denied ?? [] }, method, template);
    if (refused) return refused;
    const range = h('range');
    const ctx: SimContext = {
      store: this.store,
      version,
      now: this.now,
      latency: (set, n) => this.latency(set, n),
      tasks: this.tasks,
      partialAccept,
      maxBulkElements: this.opts.maxBulkElements,
      taskDelayMs: this.opts.taskDelayMs ?? 0,
      user: who.user,
      domains: new DomainCheck(new Set(this.opts.domains ?? [0]), who.access),
    };
    const path = rest.join('/');
    if (rest[0] === 'reference_data' && rest[1] === 'sets')
      return legacySets(ctx, { method, segs: rest.slice(2), q, range, raw });
    if (rest[0] === 'reference_data_collections')
      return collections(ctx, { method, segs: rest.slice(1), q, range, raw });
    if (method === 'GET' && path === 'help/versions') {
      const rg = parseRange(range);
      if (rg && 'status' in rg) return rg;
      const p = page(this.versions.list, rg);
      return ok(project(p.items, q.get('fields')), 200, p.headers);
    }
    if (method === 'GET' && path === 'help/endpoints') {
      const rg = parseRange(range);
      if (rg && 'status' in rg) return rg;
      const v = Number(version);
      const docs = ENDPOINTS.filter((e) => (e.from ?? 0) <= v && v <= (e.until ?? Infinity)).map((e, i) => ({
        id: i + 1,
        http_method: e.method,
        path: e.path,
        version,
        deprecated: e.path.startsWith('/reference_data/') && v >= 26,
        caller_has_access: !roleRefusal({ write: who.write, denied: who.access.denied ?? [] }, e.method, e.path),
      }));
      const filtered = applyFilter(docs, q.get('filter'), 0);
      if (!Array.isArray(filtered)) return filtered;
      const p = page(filtered, rg);
      return ok(project(p.items, q.get('fields')), 200, p.headers);
    }
    if (method === 'GET' && path === 'system/about') {
      const ext = this.opts.externalVersion ?? (Number(version) >= 17 ? '7.5.0' : '7.3.0');
      return ok(
        project(
          {
            build_version: `${ext}.20240101000000`,
            external_version: ext,
            fips_enabled: false,
            release_name: `${ext} (stixgate simulator, API ${this.versions.latest})`,
          },
          q.get('fields'),
        ),
      );
    }
    const task = /^system\/task_management\/tasks\/(\d+)$/.exec(path);
    if (method === 'GET' && task) {
      const t = this.tasks.all.get(Number(task[1]));
      return t ? ok(this.tasks.view(t)) : qerror(404, 1002, `Task ${task[1]} does not exist`);
    }
    return qerror(
      404,
      0,
      `The resource /${path} does not exist. Please refer to the documentation for the list of resources.`,
    );
  }

  /** GET /__sim/state, GET /__sim/requests, POST /__sim/reset-faults (no auth). */
  private simApi(method: string, path: string): SimResponse {
    const r = simControl(method, path, '', {
      requests: this.requests,
      clearFaults: () => this.clearFaults(),
      state: () => ({ api_version: this.versions.latest, sets: this.sets(), faults: this.faultQueue.size }),
    });
    return { status: r.status, body: r.value };
  }
}
