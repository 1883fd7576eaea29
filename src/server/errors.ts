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

export function sendError(reply: FastifyReply, status: number, code: ErrorCode, message: string, headers: Record<string, string> = {}): FastifyReply {
  return reply.code(status).headers(headers).type('application/json; charset=utf-8').send({ error: { code, message } });
}

/**
 * One error handler and one not-found handler for the whole server: every error body is
 * `{ "error": { "code": "STIXGATE_ERR_…", "message": "…" } }`. Internal details never reach
 * the client; they are logged instead.
 */
export function registerErrorHandling(app: FastifyInstance): void {
  app.setNotFoundHandler((_req, reply) => sendError(reply, 404, 'STIXGATE_ERR_API_NOT_FOUND', 'not found'));
  app.setErrorHandler((err: FastifyError | ApiError | Error, req: FastifyRequest, reply: FastifyReply) => {
    if (err instanceof ApiError) return sendError(reply, err.statusCode, err.code, err.message, err.headers);
    if (isStixgateError(err) && err.code === 'STIXGATE_ERR_STORE_UNAVAILABLE') {
      return sendError(reply, 503, 'STIXGATE_ERR_API_UNAVAILABLE', 'store unavailable', { 'retry-after': '5' });
    }
    const fe = err as FastifyError;
    const status = typeof fe.statusCode === 'number' ? fe.statusCode : 500;
    if (fe.validation) return sendError(reply, 400, 'STIXGATE_ERR_API_BAD_REQUEST', fe.message);
    if (status === 413) return sendError(reply, 413, 'STIXGATE_ERR_API_TOO_LARGE', `request body exceeds the limit of ${req.routeOptions.bodyLimit ?? 0} bytes`);
    if (status === 415) return sendError(reply, 415, 'STIXGATE_ERR_API_BAD_REQUEST', 'unsupported content type; send application/json');
    if (status === 404) return sendError(reply, 404, 'STIXGATE_ERR_API_NOT_FOUND', 'not found');
    if (status >= 400 && status < 500) return sendError(reply, status, 'STIXGATE_ERR_API_BAD_REQUEST', clientMessage(fe));
    req.log.error({ err }, 'request failed');
    return sendError(reply, 500, 'STIXGATE_ERR_API_UNAVAILABLE', 'internal error');
  });
}

/** Fastify's client-error messages are fixed texts (no echo of the input); keep them, bounded. */
function clientMessage(e: FastifyError): string {
  return (e.message || 'bad request').slice(0, 200);
}
