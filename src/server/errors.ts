import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isStixgateError, type ErrorCode } from '../core/errors.js';

/** An error answered as `{ error: { code, message } }` with its status (and optional headers). */
export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: ErrorCode,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export const UNAUTHORIZED_MESSAGE = 'missing or invalid API key';

/** The JSON schema of every error answer: `{"error": {"code": "STIXGATE_ERR_…", "message": …}}`. */
export const ERROR_SCHEMA = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: { code: { type: 'string', pattern: '^STIXGATE_ERR_' }, message: { type: 'string' } },
    },
  },
} as const;

export function sendError(
  reply: FastifyReply,
  status: number,
  code: ErrorCode,
  message: string,
  headers: Record<string, string> = {},
): FastifyReply {
  // refused before its body was read (401/403/405/429/413…): close the connection after the
  // answer, so the rest of the body is never read (Node would otherwise read it to the end to
  // reuse the connection)
  if (!reply.request.raw.complete) reply.header('connection', 'close');
  return reply.code(status).headers(headers).type('application/json; charset=utf-8').send({ error: { code, message } });
}

/**
 * Fastify's own client errors, each with a fixed message: the framework's texts quote the URL,
 * the content type or a slice of the body, and an error body never echoes the request.
 */
const FRAMEWORK_ERRORS: Readonly<Record<string, readonly [number, ErrorCode, string]>> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: [
    415,
    'STIXGATE_ERR_API_UNSUPPORTED_MEDIA_TYPE',
    'unsupported content type; send application/json',
  ],
  FST_ERR_CTP_INVALID_TYPE: [
    415,
    'STIXGATE_ERR_API_UNSUPPORTED_MEDIA_TYPE',
    'unsupported content type; send application/json',
  ],
  FST_ERR_CTP_EMPTY_TYPE: [
    415,
    'STIXGATE_ERR_API_UNSUPPORTED_MEDIA_TYPE',
    'missing content type; send application/json',
  ],
  FST_ERR_CTP_EMPTY_JSON_BODY: [400, 'STIXGATE_ERR_API_BAD_REQUEST', 'the JSON body is empty'],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: [
    400,
    'STIXGATE_ERR_API_BAD_REQUEST',
    'the body length does not match Content-Length',
  ],
  FST_ERR_CTP_INVALID_JSON_BODY: [400, 'STIXGATE_ERR_API_BAD_REQUEST', 'the body is not valid JSON'],
  FST_ERR_BAD_URL: [400, 'STIXGATE_ERR_API_BAD_REQUEST', 'the request path is not validly encoded'],
  FST_ERR_MAX_PARAM_LENGTH: [414, 'STIXGATE_ERR_API_URI_TOO_LONG', 'a path parameter is too long'],
  FST_ERR_ASYNC_CONSTRAINT: [400, 'STIXGATE_ERR_API_BAD_REQUEST', 'bad request'],
};

/** Status, code and message for any error reaching the handler; `internal` when it is our fault. */
export function describeError(
  err: FastifyError | ApiError | Error,
  bodyLimit: number,
): { status: number; code: ErrorCode; message: string; headers?: Record<string, string>; internal?: boolean } {
  if (err instanceof ApiError)
    return { status: err.statusCode, code: err.code, message: err.message, headers: err.headers };
  if (isStixgateError(err) && err.code === 'STIXGATE_ERR_STORE_UNAVAILABLE') {
    return {
      status: 503,
      code: 'STIXGATE_ERR_API_UNAVAILABLE',
      message: 'store unavailable',
      headers: { 'retry-after': '5' },
    };
  }
  // fastify's errors add these properties to Error, each optional here
  const fe: Partial<FastifyError> = err;
  const known = typeof fe.code === 'string' ? FRAMEWORK_ERRORS[fe.code] : undefined;
  if (known) return { status: known[0], code: known[1], message: known[2] };
  const status = typeof fe.statusCode === 'number' ? fe.statusCode : 500;
  if (fe.validation) return { status: 400, code: 'STIXGATE_ERR_API_BAD_REQUEST', message: err.message.slice(0, 300) };
  if (status === 413)
    return {
      status,
      code: 'STIXGATE_ERR_API_TOO_LARGE',
      message: `request body exceeds the limit of ${bodyLimit} bytes`,
    };
  if (status === 404) return { status, code: 'STIXGATE_ERR_API_NOT_FOUND', message: 'not found' };
  if (status === 400 && err instanceof SyntaxError) {
    // JSON.parse / secure-json-parse: the native message quotes the body, so it is replaced
    const poison = /forbidden (prototype|constructor) property/.test(err.message);
    return {
      status,
      code: 'STIXGATE_ERR_API_BAD_REQUEST',
      message: poison
        ? 'the body carries a forbidden __proto__ or constructor.prototype key'
        : 'the body is not valid JSON',
    };
  }
  if (status >= 400 && status < 500)
    return {
      status,
      code: 'STIXGATE_ERR_API_BAD_REQUEST',
      message: (STATUS_CODES[status] ?? 'bad request').toLowerCase(),
    };
  return { status: 500, code: 'STIXGATE_ERR_API_INTERNAL', message: 'internal error', internal: true };
}

/**
 * One error handler and one not-found handler for the whole server: every error body is
 * `{ "error": { "code": "STIXGATE_ERR_…", "message": "…" } }`. Internal details never reach
 * the client; they are logged instead.
 */
export function registerErrorHandling(
  app: FastifyInstance,
  counted: (code: ErrorCode) => void = () => undefined,
): void {
  app.setNotFoundHandler((_req, reply) => {
    counted('STIXGATE_ERR_API_NOT_FOUND');
    return sendError(reply, 404, 'STIXGATE_ERR_API_NOT_FOUND', 'not found');
  });
  app.setErrorHandler((err: FastifyError | ApiError | Error, req: FastifyRequest, reply: FastifyReply) => {
    const d = describeError(err, req.routeOptions.bodyLimit ?? 0);
    if (d.internal) req.log.error({ err }, 'request failed');
    counted(d.code);
    return sendError(reply, d.status, d.code, d.message, d.headers);
  });
}

/** The bounded metric label of an API error code: `STIXGATE_ERR_API_RATE_LIMITED` → `rate_limited`. */
export function errorLabel(code: ErrorCode): string {
  return code.replace(/^STIXGATE_ERR_(API_)?/, '').toLowerCase();
}

/** Fastify `frameworkErrors`: errors raised before routing (bad URL encoding, over-long path parameter). */
export function frameworkErrors(err: FastifyError, _req: FastifyRequest, reply: FastifyReply): void {
  const d = describeError(err, 0);
  void sendError(reply, d.status, d.code, d.message);
}

/** Errors Node's HTTP parser raises before a request exists, answered on the raw socket. */
const SOCKET_ERRORS: Readonly<Record<string, readonly [number, ErrorCode, string]>> = {
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'STIXGATE_ERR_API_TIMEOUT', 'the request was not received in time'],
  HPE_HEADER_OVERFLOW: [431, 'STIXGATE_ERR_API_HEADERS_TOO_LARGE', 'the request headers are too large'],
};

/**
 * Fastify `clientErrorHandler` (Node's `clientError`): header timeout, oversized head, malformed
 * request line or headers. Answers in our JSON error format and closes the connection; nothing
 * of the request is echoed.
 */
export function clientErrorHandler(err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, code, message] = (err.code && SOCKET_ERRORS[err.code]) || [
    400,
    'STIXGATE_ERR_API_BAD_REQUEST',
    'malformed HTTP request',
  ];
  // a response already under way (e.g. a timeout while the answer streams) cannot get a second head
  const pending = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (!socket.writable || pending?.headersSent) {
    socket.destroy();
    return;
  }
  const body = JSON.stringify({ error: { code, message } });
  // destroyed once the answer is flushed: the rest of the request is never read
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    () => socket.destroy(),
  );
}
