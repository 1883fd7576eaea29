import { group } from '../../src/core/indexed.js';
import { errorMessage } from '../../src/core/errors.js';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { LoopbackSimulator, logBounded, readBody, simControl, sleep, type HttpFault } from '../sim-kit.js';
import { KeyRing, type ApiKey } from './sim-auth.js';
import { DEFAULT_INDICATOR_FIELDS, IndicatorStore, SimError, type Exclusion, type SimIndicator } from './sim-store.js';

/**
 * A Cortex XSOAR simulator on 127.0.0.1 serving the indicator endpoints of the server swagger
 * (Cortex XSOAR's REST API documentation): XSOAR 6 paths (`/…`, multi-tenant `/acc_<tenant>/…`) and XSOAR 8 paths
 * (`/xsoar/…`, `/xsoar/public/v1/…`) with standard and advanced API keys. Fault injection and
 * inspection are methods on the class and, without auth, JSON endpoints under /__sim/.
 */

export interface XsoarSimulatorOptions {
  /** API keys (default one standard key `sim-key` with id 1). */
  keys?: ApiKey[];
  /** Multi-tenant account names served under `/acc_<name>/` (each has its own indicators). */
  tenants?: string[];
  /** Indicator types accepted. */
  types?: string[];
  /** Indicators per `/indicators/feed/json` request (default 2000, the feed-integration batch size). */
  maxFeedBatch?: number;
  /** Largest `size` of a search (default 1000, per the swagger). */
  maxSearchSize?: number;
  /** Simulated processing time per ingested indicator, ms (default 0). */
  perIndicatorMs?: number;
  /** A feed/json request whose processing exceeds this is cut off with 504 after ingesting what fit (default 0 = none). */
  commandTimeoutMs?: number;
  /** Default expiration of the `indicatorType` policy, minutes (default 10080 = 7 days). */
  typeExpirationMinutes?: number;
  /** /indicator/create on an existing value: `merge` (default) or `conflict` (409). */
  createExisting?: 'merge' | 'conflict';
  /** Status of a stale-version edit (default 409). */
  versionConflictStatus?: number;
  /** Allowed clock difference of advanced-key timestamps, ms (default 5 min). */
  timestampSkewMs?: number;
  rejectReusedNonce?: boolean;
  /** The simulator's clock (default Date.now). */
  now?: () => number;
  /** Largest request body, bytes (default 50 MB). */
  maxBodyBytes?: number;
  /** Indicator fields the server defines (default DEFAULT_INDICATOR_FIELDS); other keys of `fields`/`CustomFields` are dropped. */
  indicatorFields?: readonly string[];
  /**
   * feed/json `fields`: `keep` (default) stores the defined ones; `drop` models a feed classifier
   * that maps none (the swagger lists no `fields` among feed/json's indicator properties).
   */
  feedFields?: 'keep' | 'drop';
  /**
   * XSOAR 8: serve `/indicators/feed/json` under `/xsoar/public/v1` too (default true). XSOAR 8
   * documents that prefix for its public calls but shows no feed/json under it; false makes that
   * path 404, as a server exposing feed/json under `/xsoar` only (demisto-py's prefix) would.
   */
  feedUnderPublicV1?: boolean;
}

export type FaultTarget = 'feed' | 'create' | 'edit' | 'search' | 'delete' | 'any';

/** `target`: which endpoint the fault applies to (default any, never /__sim/). */
export interface Fault extends HttpFault<FaultTarget> {
  /** feed/json and batchDelete: apply the first n items, then answer 500. */
  partialAccept?: number;
}

export interface LoggedRequest {
  method: string;
  path: string;
  /** 6 or 8 by the path prefix (0 for /__sim/). */
  api: number;
  tenant: string;
  scheme: string;
  bytes: number;
  /** Indicators in a feed/json body, ids in a batchDelete body. */
  items: number;
  status: number;
}

interface SimResponse {
  status: number;
  body?: string;
  headers?: Record<string, string>;
}

export const DEFAULT_TYPES = [
  'IP',
  'IPv6',
  'CIDR',
  'IPv6CIDR',
  'Domain',
  'DomainGlob',
  'URL',
  'Email',
  'File',
  'File MD5',
  'File SHA-1',
  'File SHA-256',
  'SSDeep',
  'X509 Certificate',
  'Account',
  'Host',
  'Mutex',
  'Registry Key',
  'CVE',
];
const MAX_LOGGED = 10_000;

/** `sourceScores` and `sourceExpirations` are the simulator's bookkeeping (inspection only), never served. */
const json = (status: number, v: unknown): SimResponse => ({
  status,
  body: JSON.stringify(v, (k, x: unknown) => (k === 'sourceScores' || k === 'sourceExpirations' ? undefined : x)),
});

/** XSOAR's error envelope. */
export function xsoarError(status: number, id: string, title: string, detail: string, error = detail): SimResponse {
  return json(status, { id, status, title, detail, error, encrypted: false, multires: null });
}

const TITLES: Record<number, [string, string]> = {
  400: ['bad_request', 'Bad request'],
  401: ['unauthorized', 'Unauthorized'],
  403: ['forbidden', 'Forbidden'],
  404: ['not_found', 'Not found'],
  409: ['conflict', 'Conflict'],
  429: ['too_many_requests', 'Too many requests'],
  500: ['internal_error', 'Internal server error'],
  502: ['bad_gateway', 'Bad gateway'],
  503: ['service_unavailable', 'Service unavailable'],
  504: ['timeout', 'Gateway timeout'],
};
const statusError = (status: number, detail: string): SimResponse => {
  const [id, title] = TITLES[status] ?? ['error', 'Error'];
  return xsoarError(status, id, title, detail);
};

const ENDPOINTS: Record<string, FaultTarget> = {
  '/indicators/feed/json': 'feed',
  '/indicator/create': 'create',
  '/indicator/edit': 'edit',
  '/indicators/search': 'search',
  '/indicators/batchDelete': 'delete',
  '/indicator/whitelist': 'delete',
};

export class XsoarSimulator extends LoopbackSimulator<Fault> {
  readonly requests: LoggedRequest[] = [];
  private readonly stores = new Map<string, IndicatorStore>();
  private readonly keyRing: KeyRing;
  private readonly revoked = new Set<string>();
  private readonly o: Required<Omit<XsoarSimulatorOptions, 'keys' | 'tenants'>>;

  constructor(opts: XsoarSimulatorOptions = {}) {
    super({ target: 'any' });
    this.o = {
      types: DEFAULT_TYPES,
      maxFeedBatch: 2000,
      maxSearchSize: 1000,
      perIndicatorMs: 0,
      commandTimeoutMs: 0,
      typeExpirationMinutes: 10080,
      createExisting: 'merge',
      versionConflictStatus: 409,
      timestampSkewMs: 5 * 60_000,
      rejectReusedNonce: false,
      now: Date.now,
      maxBodyBytes: 50 * 1024 * 1024,
      indicatorFields: DEFAULT_INDICATOR_FIELDS,
      feedFields: 'keep',
      feedUnderPublicV1: true,
      ...opts,
    };
    const keys = (opts.keys ?? [{ key: 'sim-key', id: 1, type: 'standard' }]).map((k) => ({
      id: 1,
      type: 'standard' as const,
      ...k,
    }));
    this.keyRing = new KeyRing(keys, this.revoked, this.o.timestampSkewMs, this.o.now, this.o.rejectReusedNonce);
    for (const t of ['', ...(opts.tenants ?? [])]) {
      this.stores.set(
        t,
        new IndicatorStore({
          types: this.o.types,
          typeExpirationMinutes: this.o.typeExpirationMinutes,
          now: this.o.now,
          createExisting: this.o.createExisting,
          versionConflictStatus: this.o.versionConflictStatus,
          indicatorFields: this.o.indicatorFields,
          feedFields: this.o.feedFields,
        }),
      );
    }
  }

  // ---- fault injection (inject, clearFaults: LoopbackSimulator) --------------------------------

  /** Revoke an API key (standard or advanced): every later request with it is refused. */
  revoke(key: string): void {
    this.revoked.add(key);
  }

  // ---- inspection ------------------------------------------------------------------------------

  store(tenant = ''): IndicatorStore {
    const s = this.stores.get(tenant);
    if (!s) throw new Error(`no tenant ${tenant}`);
    return s;
  }

  /** Indicators as the server reports them (expiration status as of now), by id. */
  indicators(tenant = ''): SimIndicator[] {
    const s = this.store(tenant);
    return [...s.byId.values()].map((i) => s.view(i));
  }

  indicator(value: string, tenant = ''): SimIndicator | undefined {
    const s = this.store(tenant);
    const i = s.find(value);
    return i && s.view(i);
  }

  /** The exclusion list (values deleted without doNotWhitelist, or whitelisted). */
  /** Field keys the server dropped (not defined, or not mapped by the feed classifier), with counts. */
  droppedFields(tenant = ''): Record<string, number> {
    return Object.fromEntries(this.store(tenant).droppedFields);
  }

  exclusions(tenant = ''): Exclusion[] {
    return [...this.store(tenant).exclusions.values()];
  }

  // ---- request handling ------------------------------------------------------------------------

  protected override async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req, this.o.maxBodyBytes);
    const raw = body.raw.toString('utf8');
    const size = body.size;
    const full = new URL(req.url ?? '/', 'http://x').pathname;
    const method = req.method ?? 'GET';
    if (full.startsWith('/__sim/')) return this.send(res, this.simApi(method, full));

    let api = 6;
    let tenant = '';
    let path = full;
    const v8 = /^\/xsoar(?:\/public\/v1)?(\/.*)$/.exec(full);
    const acc = /^\/acc_([^/]+)(\/.*)$/.exec(full);
    if (v8) [api, path] = [8, group(v8, 1)];
    // a server that serves feed/json under /xsoar only (the prefix demisto-py uses): the public v1 path is unknown there
    if (v8 && !this.o.feedUnderPublicV1 && full.startsWith('/xsoar/public/v1/') && path === '/indicators/feed/json')
      path = `/public/v1${path}`;
    else if (acc) [tenant, path] = [decodeURIComponent(group(acc, 1)), group(acc, 2)];
    const target = ENDPOINTS[path];
    const log: LoggedRequest = { method, path: full, api, tenant, scheme: '', bytes: size, items: 0, status: 0 };
    logBounded(this.requests, log, MAX_LOGGED);
    const fault = target ? this.faultQueue.take((f) => f.target === 'any' || f.target === target) : undefined;
    if (fault?.delayMs) await sleep(fault.delayMs);

    let r: SimResponse;
    const auth = this.keyRing.check(req.headers, api === 8);
    if (auth.ok) log.scheme = auth.scheme;
    if (!auth.ok) {
      r = xsoarError(
        auth.status,
        auth.status === 403 ? 'forbidden' : 'unauthorized',
        auth.status === 403 ? 'Forbidden' : 'Unauthorized',
        auth.detail,
        auth.error,
      );
    } else if (!this.stores.has(tenant)) {
      r = xsoarError(404, 'not_found', 'Not found', `account acc_${tenant} does not exist`);
    } else if (fault?.status) {
      r = statusError(fault.status, fault.status === 429 ? 'Too many requests, try again later' : 'simulated failure');
      if (fault.retryAfter !== undefined) r.headers = { 'Retry-After': String(fault.retryAfter) };
    } else if (size > this.o.maxBodyBytes) {
      r = statusError(413, 'Request body too large');
    } else {
      try {
        const store = this.stores.get(tenant);
        if (!store) throw new Error(`XSOAR simulator: no store for tenant ${tenant}`);
        r = await this.route(method, path, raw, store, api, fault?.partialAccept, log);
      } catch (e) {
        r =
          e instanceof SimError
            ? xsoarError(e.status, e.id, e.title, e.message)
            : statusError(500, `simulator error: ${errorMessage(e)}`);
      }
    }
    log.status = r.status;
    if (fault?.dropAfterHandling) {
      log.status = -1;
      req.socket.destroy();
      return;
    }
    this.send(res, r);
  }

  private send(res: ServerResponse, r: SimResponse): void {
    res.writeHead(r.status, {
      ...(r.body !== undefined ? { 'Content-Type': 'application/json' } : {}),
      ...(r.headers ?? {}),
    });
    res.end(r.body);
  }

  private async route(
    method: string,
    path: string,
    raw: string,
    store: IndicatorStore,
    api: number,
    partial: number | undefined,
    log: LoggedRequest,
  ): Promise<SimResponse> {
    if (path === '/about' && method === 'GET')
      return json(200, {
        demistoVersion: api === 8 ? '8.6.0' : '6.13.0',
        buildNum: '000000',
        platform: 'stixgate-sim',
        deploymentMode: api === 8 ? 'saas' : 'opp',
      });
    if (!ENDPOINTS[path])
      return xsoarError(404, 'not_found', 'Not found', `${method} ${path} is not an endpoint of this server`);
    if (method !== 'POST')
      return xsoarError(405, 'method_not_allowed', 'Method not allowed', `${path} accepts POST only`);
    let body: unknown;
    try {
      body = raw === '' ? {} : JSON.parse(raw);
    } catch (e) {
      return xsoarError(
        400,
        'bad_request',
        'Bad request',
        'Request body is not well-formed. It must be JSON.',
        errorMessage(e),
      );
    }
    switch (path) {
      case '/indicators/feed/json':
        return this.feed(body, store, partial, log);
      case '/indicator/create':
        return json(200, store.create(body));
      case '/indicator/edit':
        return json(200, store.edit(body));
      case '/indicators/search':
        return json(200, store.search(body, this.o.maxSearchSize));
      case '/indicators/batchDelete': {
        log.items = Array.isArray((body as { ids?: unknown }).ids) ? (body as { ids: unknown[] }).ids.length : 0;
        const out = store.batchDelete(body, partial);
        return partial !== undefined
          ? statusError(500, `deleted ${out.updatedIds.length} indicators, then failed`)
          : json(200, out);
      }
      default:
        return json(200, store.whitelist(body));
    }
  }

  private async feed(
    body: unknown,
    store: IndicatorStore,
    partial: number | undefined,
    log: LoggedRequest,
  ): Promise<SimResponse> {
    const inds = (body as { indicators?: unknown }).indicators;
    if (!Array.isArray(inds)) return xsoarError(400, 'bad_request', 'Bad request', 'indicators must be a list');
    log.items = inds.length;
    if (inds.length > this.o.maxFeedBatch)
      return xsoarError(
        400,
        'bad_request',
        'Bad request',
        `Too many indicators in one request: ${inds.length} (max ${this.o.maxFeedBatch})`,
      );
    const bypass = (body as { bypassExclusionList?: unknown }).bypassExclusionList === true;
    const per = this.o.perIndicatorMs;
    const fits = this.o.commandTimeoutMs > 0 && per > 0 ? Math.floor(this.o.commandTimeoutMs / per) : Infinity;
    const n = Math.min(inds.length, partial ?? Infinity, fits);
    // the batch is checked as a whole first: a bad item refuses the request, nothing is stored
    for (let i = 0; i < inds.length; i++) store.check(inds[i], i);
    for (let i = 0; i < n; i++) store.ingest(inds[i], i, bypass);
    if (per > 0) await new Promise((r) => setTimeout(r, Math.min(n * per, this.o.commandTimeoutMs || Infinity)));
    if (partial !== undefined && partial <= fits)
      return statusError(500, `ingested ${n} of ${inds.length} indicators, then failed`);
    if (n < inds.length)
      return statusError(
        504,
        `command timed out after ${this.o.commandTimeoutMs} ms: ${n} of ${inds.length} indicators ingested`,
      );
    return { status: 201 };
  }

  /** JSON inspection for `stixgate simulate` users: GET /__sim/state, GET /__sim/requests, POST /__sim/reset-faults. */
  private simApi(method: string, path: string): SimResponse {
    const r = simControl(method, path, '', {
      requests: this.requests,
      clearFaults: () => this.clearFaults(),
      state: () => {
        const tenants: Record<string, unknown> = {};
        for (const [t, s] of this.stores)
          tenants[t] = {
            indicators: s.byId.size,
            exclusions: [...s.exclusions.values()],
            droppedFields: Object.fromEntries(s.droppedFields),
          };
        return { tenants, indicators: this.indicators().slice(0, 1000), faults: this.faultQueue.size };
      },
    });
    return json(r.status, r.value);
  }
}
