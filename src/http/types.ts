// The outbound HTTP contract: every integration talks to the network through an HttpClient
// (created by `createHttpClient` in ./client.ts).

export interface HttpPolicy {
  /** Time allowed for the response headers. */
  headersTimeoutMs: number;
  /** Longest silence allowed between body chunks. */
  bodyTimeoutMs: number;
  /** Deadline for the whole exchange, body included (a slow drip cannot outlive it). */
  totalTimeoutMs: number;
  /** Cap on decompressed body bytes; exceeding it aborts with reason `too_large`. */
  maxBytes: number;
  /** Redirects followed, same origin only, secret headers stripped otherwise refused. */
  maxRedirects: number;
  /** Permit loopback/private/link-local destinations (needed for loopback tests and lab feeds). */
  allowPrivate: boolean;
  /** Permit plain `http://`. */
  allowInsecure: boolean;
  /** Verify TLS certificates (never off by default). */
  verifyTls: boolean;
  /** PEM bundle of CAs trusted in addition to the system ones. */
  caFile?: string;
  /** Client certificate (PEM) presented to the server, with `keyFile`. */
  certFile?: string;
  keyFile?: string;
  /**
   * Outbound proxy. Undefined: `HTTPS_PROXY` / `HTTP_PROXY` / `NO_PROXY` from the environment.
   * `false`: always direct.
   */
  proxy?: ProxyPolicy | false;
  retry: RetryPolicy;
}

export interface ProxyPolicy {
  /** `http://host:port` or `https://host:port` of a forward proxy. */
  url: string;
  /** Basic credentials for `Proxy-Authorization` (sent to the proxy only, over CONNECT). */
  username?: string;
  password?: string;
}

export interface RetryPolicy {
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** Longest Retry-After honoured inside one run; longer waits end the run and are rescheduled. */
  maxRetryAfterMs: number;
}

export interface HttpRequest {
  url: string;
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'HEAD';
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Acceptable response media types (e.g. `application/json`); others fail with CONTENT_TYPE. */
  accept?: string[];
  /** Statuses returned to the caller instead of thrown (e.g. 304, 404). */
  okStatuses?: number[];
  signal?: AbortSignal;
  /** Whether the request may be retried automatically (default: GET/HEAD yes, others no). */
  idempotent?: boolean;
}

export interface HttpResponse {
  status: number;
  /** Lower-cased header names. */
  headers: Record<string, string>;
  /** Final URL after same-origin redirects. */
  url: string;
  /** The decompressed body, capped at `maxBytes`. Consume it once. */
  body: AsyncIterable<Buffer>;
  text(): Promise<string>;
  json(): Promise<unknown>;
  /** Discards the body without reading it. */
  dump(): Promise<void>;
}

export interface HttpClient {
  /** Throws StixgateError (HTTP_*) on transport errors and unexpected statuses, after retries. */
  request(req: HttpRequest): Promise<HttpResponse>;
}
