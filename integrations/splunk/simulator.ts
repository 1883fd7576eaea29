import { group } from '../../src/core/indexed.js';
import { errorMessage } from '../../src/core/errors.js';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import { atomFeed, jsonFeed, xmlMessages, xmlSessionKey } from './sim-atom.js';
import {
  ES_INTEL_APP,
  ES_INTEL_COLLECTIONS,
  KvStore,
  json,
  messages,
  type KvCollection,
  type SimResponse,
} from './sim-kv.js';
import { Hec, hecReply, type HecEvent, type HecToken } from './sim-hec.js';
import type { Doc } from './sim-kv-query.js';
import { esItem } from './sim-es.js';
import { writeRefusal, type SplunkRole } from './sim-roles.js';
import { LoopbackSimulator, readBody, simControl, sleep, type HttpFault } from '../sim-kit.js';

/**
 * A Splunk simulator on 127.0.0.1: management REST (auth/login, server/info, KV store collections,
 * ES threat-intel collections in app DA-ESS-ThreatIntelligence) and the HTTP Event Collector on one
 * port, following Splunk's REST API reference. Fault injection and inspection are methods on
 * the class and, for `stixgate simulate`, JSON endpoints under /__sim/.
 */

export interface SplunkSimulatorOptions {
  /** username -> password for /services/auth/login and Basic auth (default admin/changeme). */
  users?: Record<string, string>;
  /** Bearer (JWT) tokens accepted on the management API. */
  bearerTokens?: string[];
  /** HEC tokens (default: none). */
  hecTokens?: Record<string, HecToken>;
  /** limits.conf [kvstore] max_documents_per_batch_save (default 1000; 50000 on 9.1+). */
  maxDocumentsPerBatchSave?: number;
  maxSizePerBatchSaveMb?: number;
  maxRowsPerQuery?: number;
  /** inputs.conf maxEventSize in bytes (default 5 MB). */
  maxEventSize?: number;
  /** limits.conf [http_input] max_content_length (default 800 MB). */
  maxContentLength?: number;
  /** Reported by /services/server/info (default 9.0.0). */
  version?: string;
  /** Create the ES threat-intel collections at start (default true). */
  esCollections?: boolean;
  /**
   * Installed apps (default: search, launcher, system, stixgate, and DA-ESS-ThreatIntelligence with
   * esCollections). A `servicesNS/{owner}/{app}/…` request for any other app is answered 404
   * "Application does not exist", as splunkd does, and creates nothing.
   */
  apps?: string[];
  /** Roles by user name (Basic and session users; Bearer tokens act as admin). Without an entry a user may do anything. */
  roles?: Record<string, SplunkRole>;
}

export type FaultTarget = 'kv' | 'hec' | 'mgmt' | 'any';

export interface Fault extends HttpFault<FaultTarget> {
  /** For batch_save / HEC event batches: accept this many items, then fail the rest. */
  partialAccept?: number;
}

export interface LoggedRequest {
  method: string;
  path: string;
  query: string;
  auth: string;
  channel?: string;
  bytes: number;
  status: number;
}

interface Principal {
  user: string;
}

const HEC_PREFIX = '/services/collector';

export class SplunkSimulator extends LoopbackSimulator<Fault> {
  readonly kv: KvStore;
  readonly hec: Hec;
  readonly requests: LoggedRequest[] = [];
  private readonly users: Map<string, string>;
  private readonly bearer: Set<string>;
  private readonly sessions = new Map<string, string>();
  private readonly revoked = new Set<string>();
  private base = '';
  private readonly version: string;
  private readonly maxContentLength: number;
  readonly apps: Set<string>;
  private readonly roles: Record<string, SplunkRole>;

  constructor(opts: SplunkSimulatorOptions = {}) {
    super({ target: 'any' });
    this.users = new Map(Object.entries(opts.users ?? { admin: 'changeme' }));
    this.bearer = new Set(opts.bearerTokens ?? []);
    this.roles = opts.roles ?? {};
    this.version = opts.version ?? '9.0.0';
    this.maxContentLength = opts.maxContentLength ?? 838860800;
    this.kv = new KvStore({
      maxDocumentsPerBatchSave: opts.maxDocumentsPerBatchSave ?? 1000,
      maxSizePerBatchSaveMb: opts.maxSizePerBatchSaveMb ?? 50,
      maxRowsPerQuery: opts.maxRowsPerQuery ?? 50000,
      maxQueriesPerBatch: 1000,
    });
    this.hec = new Hec(new Map(Object.entries(opts.hecTokens ?? {})), opts.maxEventSize ?? 5 * 1024 * 1024);
    this.apps = new Set(
      opts.apps ?? [
        'search',
        'launcher',
        'system',
        'stixgate',
        ...(opts.esCollections !== false ? [ES_INTEL_APP] : []),
      ],
    );
    if (opts.esCollections !== false) {
      for (const [name, fields] of Object.entries(ES_INTEL_COLLECTIONS)) {
        this.kv.create(
          'nobody',
          ES_INTEL_APP,
          name,
          new URLSearchParams(
            fields
              .filter((f) => f === 'weight' || f === 'time')
              .map((f): [string, string] => [`field.${f}`, f === 'time' ? 'time' : 'number']),
          ),
        );
      }
    }
  }

  override async start(port = 0): Promise<{ base: string }> {
    const { base } = await super.start(port);
    this.base = base;
    return { base };
  }

  // ---- fault injection (inject, clearFaults: LoopbackSimulator) --------------------------------

  /** Revoke a session key, bearer token, HEC token or user (its password stops working). */
  revoke(credential: string): void {
    this.revoked.add(credential);
  }

  /** Create a session key directly (as if the user had logged in). */
  sessionFor(user: string): string {
    const key = randomBytes(24).toString('base64url');
    this.sessions.set(key, user);
    return key;
  }

  // ---- inspection ------------------------------------------------------------------------------

  collection(app: string, name: string): KvCollection | undefined {
    return this.kv.find(app, name);
  }

  documents(app: string, name: string): Doc[] {
    return [...(this.kv.find(app, name)?.docs.values() ?? [])];
  }

  events(): HecEvent[] {
    return this.hec.events;
  }

  // ---- request handling ------------------------------------------------------------------------

  protected override async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { raw, size } = await readBody(req, this.maxContentLength);
    const url = new URL(req.url ?? '/', 'http://x');
    const path = url.pathname;
    const target: FaultTarget = path.startsWith(HEC_PREFIX)
      ? 'hec'
      : path.includes('/storage/collections/data/')
        ? 'kv'
        : 'mgmt';
    const fault = path.startsWith('/__sim/')
      ? undefined
      : this.faultQueue.take((f) => f.target === 'any' || f.target === target);
    const log: LoggedRequest = {
      method: req.method ?? 'GET',
      path,
      query: url.search,
      auth: (req.headers.authorization ?? '').split(' ')[0] ?? '',
      channel: req.headers['x-splunk-request-channel'] as string | undefined,
      bytes: raw.length,
      status: 0,
    };
    this.requests.push(log);
    if (fault?.delayMs) await sleep(fault.delayMs);
    let r: SimResponse;
    if (fault?.status) {
      r =
        target === 'hec'
          ? { ...hecReply(fault.status === 503 ? 9 : 8), status: fault.status }
          : messages(fault.status, fault.status === 429 ? 'Too many requests' : 'Internal server error');
      if (fault.retryAfter !== undefined) r.headers = { 'Retry-After': String(fault.retryAfter) };
    } else if (size > this.maxContentLength) {
      r =
        target === 'hec'
          ? {
              status: 413,
              body: JSON.stringify({ text: 'Content-Length of request exceeds max_content_length', code: 27 }),
              type: 'application/json',
            }
          : messages(413, 'Request entity too large');
    } else {
      try {
        r = this.route(req, url, raw, target, fault?.partialAccept);
      } catch (e) {
        r = messages(500, `simulator error: ${errorMessage(e)}`);
      }
    }
    log.status = r.status;
    if (fault?.dropAfterHandling) {
      log.status = -1;
      req.socket.destroy();
      return;
    }
    res.writeHead(r.status, { 'Content-Type': r.type, ...(r.headers ?? {}) });
    res.end(r.body);
  }

  /** Splunk 6.2+ session cookie `splunkd_<port>=<sessionKey>` (set by login with cookie=1). */
  private fromCookie(cookie: string | undefined): Principal | undefined {
    const port = new URL(this.base).port;
    for (const part of (cookie ?? '').split(';')) {
      const [k, v] = part.trim().split('=');
      if (k === `splunkd_${port}` && v && !this.revoked.has(v)) {
        const u = this.sessions.get(v);
        if (u && !this.revoked.has(u)) return { user: u };
      }
    }
    return undefined;
  }

  private authenticate(authz: string | undefined): Principal | undefined {
    if (!authz) return undefined;
    const m = /^(\S+)\s+(.+)$/.exec(authz.trim());
    if (!m) return undefined;
    const [, scheme, cred] = m as unknown as [string, string, string];
    if (this.revoked.has(cred)) return undefined;
    if (scheme === 'Splunk') {
      const u = this.sessions.get(cred);
      return u && !this.revoked.has(u) ? { user: u } : undefined;
    }
    if (scheme === 'Bearer') return this.bearer.has(cred) ? { user: 'admin' } : undefined;
    if (scheme === 'Basic') {
      const dec = Buffer.from(cred, 'base64').toString('utf8');
      const i = dec.indexOf(':');
      const user = dec.slice(0, i);
      return i > 0 && !this.revoked.has(user) && this.users.get(user) === dec.slice(i + 1) ? { user } : undefined;
    }
    return undefined;
  }

  private route(req: IncomingMessage, url: URL, raw: Buffer, target: FaultTarget, partial?: number): SimResponse {
    const method = req.method ?? 'GET';
    const path = url.pathname;
    const q = url.searchParams;
    const jsonMode = q.get('output_mode') === 'json';
    if (path.startsWith('/__sim/')) return this.simApi(method, path);
    if (target === 'hec') return this.routeHec(req, method, path, q, raw, partial);
    const form =
      (req.headers['content-type'] ?? '').includes('application/x-www-form-urlencoded') ||
      (method === 'POST' && target === 'mgmt')
        ? new URLSearchParams(raw.toString('utf8'))
        : new URLSearchParams();
    if (path === '/services/auth/login' && method === 'POST') {
      const user = form.get('username') ?? '';
      if (!this.revoked.has(user) && this.users.has(user) && this.users.get(user) === form.get('password')) {
        const key = this.sessionFor(user);
        const headers =
          form.get('cookie') === '1'
            ? { 'Set-Cookie': `splunkd_${new URL(this.base).port}=${key}; Path=/; HttpOnly` }
            : undefined;
        return jsonMode
          ? { ...json(200, { sessionKey: key, message: '', code: '' }), headers }
          : { status: 200, body: xmlSessionKey(key), type: 'text/xml; charset=UTF-8', headers };
      }
      return jsonMode
        ? json(401, { messages: [{ type: 'WARN', code: 'incorrect_username_or_password', text: 'Login failed' }] })
        : {
            status: 401,
            body: xmlMessages('WARN', 'Login failed', 'incorrect_username_or_password'),
            type: 'text/xml; charset=UTF-8',
          };
    }
    const principal = this.authenticate(req.headers.authorization) ?? this.fromCookie(req.headers.cookie);
    if (!principal) {
      return jsonMode || target === 'kv'
        ? messages(401, 'call not properly authenticated', 'WARN')
        : {
            status: 401,
            body: xmlMessages('WARN', 'call not properly authenticated'),
            type: 'text/xml; charset=UTF-8',
          };
    }
    if (path === '/services/server/info' || path === '/services/server/info/server-info') {
      const e = {
        name: 'server-info',
        path: '/services/server/info/server-info',
        owner: 'nobody',
        app: 'system',
        sharing: 'system',
        content: {
          version: this.version,
          build: 'stixgate-sim',
          serverName: 'splunk-sim',
          instance_type: '',
          product_type: 'enterprise',
          kvStoreStatus: 'ready',
        },
      };
      return jsonMode
        ? json(200, jsonFeed(this.base, [e]))
        : {
            status: 200,
            body: atomFeed(this.base, 'server-info', path, [e], this.version),
            type: 'text/xml; charset=UTF-8',
          };
    }
    const ns = /^\/servicesNS\/[^/]+\/([^/]+)\//.exec(path);
    const nsApp = ns ? group(ns, 1) : '-';
    if (nsApp !== '-' && !this.apps.has(decodeURIComponent(nsApp)))
      return messages(404, `Application does not exist: ${decodeURIComponent(nsApp)}`);
    const local = /^\/services\/apps\/local\/([^/]+)\/?$/.exec(path);
    if (local && method === 'GET') {
      const app = decodeURIComponent(group(local, 1));
      if (!this.apps.has(app)) return messages(404, `Could not find object id=${app}`);
      return json(
        200,
        jsonFeed(this.base, [
          {
            name: app,
            path: `/services/apps/local/${app}`,
            owner: 'nobody',
            app,
            sharing: 'app',
            content: { disabled: false, visible: true },
          },
        ]),
      );
    }
    const es = /^\/(?:servicesNS\/[^/]+\/[^/]+|services)\/data\/threat_intel\/item\/([^/]+)(?:\/([^/]+))?\/?$/.exec(
      path,
    );
    const refused =
      method !== 'GET' && es
        ? writeRefusal(
            this.roles[principal.user],
            principal.user,
            ES_INTEL_APP,
            `/nobody/${ES_INTEL_APP}/${decodeURIComponent(group(es, 1))}`,
          )
        : undefined;
    if (refused) return refused;
    if (es)
      return esItem(
        this.kv,
        method,
        decodeURIComponent(group(es, 1)),
        es[2] === undefined ? undefined : decodeURIComponent(es[2]),
        form,
        q,
        principal.user,
      );
    const m =
      /^\/(?:servicesNS\/([^/]+)\/([^/]+)|services)\/storage\/collections\/(config|data)(?:\/([^/]+))?(?:\/([^/]+))?\/?$/.exec(
        path,
      );
    if (!m)
      return jsonMode || target === 'kv'
        ? messages(404, `Not Found`)
        : { status: 404, body: xmlMessages('ERROR', 'Not Found'), type: 'text/xml; charset=UTF-8' };
    const owner = m[1] ? decodeURIComponent(m[1]) : 'nobody';
    const app = m[2] ? decodeURIComponent(m[2]) : 'search';
    const name = m[4] === undefined ? undefined : decodeURIComponent(m[4]);
    const rest = m[5] === undefined ? undefined : decodeURIComponent(m[5]);
    const write =
      method !== 'GET' &&
      (m[3] === 'data' ? rest !== 'batch_find' : name === undefined || this.kv.find(app, name) !== undefined);
    const denied = write
      ? writeRefusal(
          this.roles[principal.user],
          principal.user,
          app,
          `/${owner}/${app}/${name ?? form.get('name') ?? ''}`,
        )
      : undefined;
    if (denied) return denied;
    if (m[3] === 'config') {
      if (rest !== undefined) return messages(404, 'Not Found');
      return this.kv.config(method, owner, app, name, form, q, { base: this.base, path, version: this.version });
    }
    if (name === undefined) return messages(404, 'Not Found');
    return this.kv.data(method, app, name, rest, raw, q, owner === '-' ? principal.user : owner, partial);
  }

  private routeHec(
    req: IncomingMessage,
    method: string,
    path: string,
    q: URLSearchParams,
    raw: Buffer,
    partial?: number,
  ): SimResponse {
    const sub = path
      .slice(HEC_PREFIX.length)
      .replace(/\/1\.0$/, '')
      .replace(/\/$/, '');
    if (sub === '/health') return method === 'GET' ? hecReply(17) : hecReply(6);
    const a = this.hec.auth(req.headers.authorization, q);
    if ('status' in a) return a;
    if (this.revoked.has(a.token)) return hecReply(4);
    if (method !== 'POST') return hecReply(6);
    const ch = req.headers['x-splunk-request-channel'] as string | undefined;
    if (sub === '' || sub === '/event') return this.hec.event(a.token, a.cfg, ch, q, raw, partial);
    if (sub === '/raw') return this.hec.rawEvents(a.token, a.cfg, ch, q, raw);
    if (sub === '/ack') return this.hec.ack(a.cfg, ch, q, raw);
    return {
      status: 404,
      body: JSON.stringify({ text: 'The requested URL was not found on this server.', code: 404 }),
      type: 'application/json',
    };
  }

  /** JSON inspection for `stixgate simulate` users: GET /__sim/state, GET /__sim/requests, POST /__sim/reset-faults. */
  private simApi(method: string, path: string): SimResponse {
    const r = simControl(method, path, '', {
      requests: this.requests,
      clearFaults: () => this.clearFaults(),
      state: () => ({
        collections: this.kv.collections.map((c) => ({
          app: c.app,
          owner: c.owner,
          name: c.name,
          fields: c.fields,
          documents: c.docs.size,
        })),
        events: this.hec.events.length,
      }),
    });
    return json(r.status, r.value);
  }
}
