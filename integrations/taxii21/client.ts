import { StixgateError } from '../../src/core/errors.js';
import { safeJsonParse } from '../../src/core/safe-json.js';
import { redactUrl } from '../../src/http/ssrf.js';
import type { HttpClient } from '../../src/http/types.js';
import type { TaxiiAuth } from './schema.js';

/**
 * The TAXII 2.1 HTTP exchange: `Accept: application/taxii+json;version=2.1`, the content type of
 * every answer checked (an SSO login page served with 200 `text/html` is an error), the
 * credentials added to every request, and every URL (API roots from discovery, `next` links that
 * are URLs) kept on the configured origin. Transport, retries, Retry-After, redirects and
 * the SSRF policy are the engine's HttpClient's.
 */

export const TAXII_MEDIA_TYPE = 'application/taxii+json;version=2.1';
/** Media types accepted in answers: TAXII 2.1, and plain JSON that some servers send. */
const ACCEPTED = [TAXII_MEDIA_TYPE, 'application/json'];

export interface TaxiiResponse {
  status: number;
  headers: Record<string, string>;
  body: Record<string, unknown>;
  url: string;
}

export class TaxiiClient {
  readonly origin: string;
  private readonly authHeaders: Record<string, string>;

  constructor(
    private readonly http: HttpClient,
    private readonly component: string,
    baseUrl: string,
    auth: TaxiiAuth | undefined,
    private readonly signal?: AbortSignal,
  ) {
    this.origin = new URL(baseUrl).origin;
    this.authHeaders = {};
    if (auth && 'username' in auth)
      this.authHeaders.authorization = `Basic ${Buffer.from(`${auth.username}:${auth.password}`, 'utf8').toString('base64')}`;
    else if (auth) this.authHeaders[auth.header.toLowerCase()] = auth.api_key;
  }

  /** Resolves `ref` against `base` and refuses anything off the configured origin. */
  sameOrigin(ref: string, base: string, what: string): string {
    let u: URL;
    try {
      u = new URL(ref, base);
    } catch {
      throw new StixgateError(
        'STIXGATE_ERR_HTTP_SSRF',
        `${this.component}: ${what} ${JSON.stringify(ref.slice(0, 120))} is not a URL (cross_origin)`,
        { reason: 'cross_origin' },
      );
    }
    if (u.origin !== this.origin || u.username || u.password) {
      throw new StixgateError(
        'STIXGATE_ERR_HTTP_SSRF',
        `${this.component}: ${what} ${redactUrl(u)} is not on the configured origin ${this.origin}; refused (cross_origin)`,
        { reason: 'cross_origin' },
      );
    }
    return u.href;
  }

  /** GET a TAXII resource; returns its JSON object. */
  async get(url: string): Promise<TaxiiResponse> {
    const res = await this.http.request({
      url,
      accept: ACCEPTED,
      headers: { ...this.authHeaders, accept: TAXII_MEDIA_TYPE },
      okStatuses: [401, 403, 404, 406],
      signal: this.signal,
    });
    if (res.status !== 200 && (res.status < 200 || res.status >= 300)) {
      const detail = await res.text().catch(() => '');
      throw this.statusError(res.status, url, detail);
    }
    if (res.headers['content-type'] === undefined) {
      await res.dump().catch(() => undefined);
      throw new StixgateError(
        'STIXGATE_ERR_HTTP_CONTENT_TYPE',
        `${this.component}: GET ${redactUrl(url)}: no content type, expected ${TAXII_MEDIA_TYPE} (content_type)`,
        {
          reason: 'content_type',
        },
      );
    }
    const text = await res.text();
    const parsed = safeJsonParse(text, { maxDepth: 100 });
    if (!parsed.ok || parsed.value === null || typeof parsed.value !== 'object' || Array.isArray(parsed.value)) {
      throw new StixgateError(
        'STIXGATE_ERR_INPUT_PARSE',
        `${this.component}: GET ${redactUrl(url)}: the answer is not a TAXII JSON object${parsed.ok ? '' : `: ${parsed.message}`}`,
        {
          reason: parsed.ok ? 'taxii_not_object' : parsed.reason,
        },
      );
    }
    return { status: res.status, headers: res.headers, body: parsed.value as Record<string, unknown>, url: res.url };
  }

  private statusError(status: number, url: string, body: string): StixgateError {
    const server = taxiiErrorTitle(body);
    const tail = server ? ` (server: ${server})` : '';
    if (status === 401) {
      const has = Object.keys(this.authHeaders).length > 0;
      const hint = has
        ? 'the server refused the configured credentials: check auth.username/password or auth.header/api_key'
        : 'the server needs credentials: set auth: { username, password } or auth: { header, api_key }';
      return new StixgateError(
        'STIXGATE_ERR_HTTP_STATUS',
        `${this.component}: GET ${redactUrl(url)}: status 401, ${hint}${tail} (status_401)`,
        { reason: 'status_401' },
      );
    }
    if (status === 403) {
      return new StixgateError(
        'STIXGATE_ERR_HTTP_STATUS',
        `${this.component}: GET ${redactUrl(url)}: status 403, these credentials may not read this resource${tail} (status_403)`,
        {
          reason: 'status_403',
        },
      );
    }
    if (status === 406) {
      return new StixgateError(
        'STIXGATE_ERR_HTTP_STATUS',
        `${this.component}: GET ${redactUrl(url)}: status 406, the server does not speak ${TAXII_MEDIA_TYPE} (TAXII 2.0 only?)${tail} (status_406)`,
        {
          reason: 'status_406',
        },
      );
    }
    return new StixgateError(
      'STIXGATE_ERR_HTTP_STATUS',
      `${this.component}: GET ${redactUrl(url)}: status ${status}, not found: check url, api_root and collections${tail} (status_404)`,
      {
        reason: 'status_404',
      },
    );
  }
}

/** The `title` of a TAXII error message body, bounded and printable, when there is one. */
function taxiiErrorTitle(body: string): string | undefined {
  try {
    const v = JSON.parse(body.slice(0, 64 * 1024)) as { title?: unknown };
    if (typeof v?.title === 'string') return v.title.replace(/[^\x20-\x7e]/g, '?').slice(0, 120);
  } catch {
    // not a TAXII error message
  }
  return undefined;
}
