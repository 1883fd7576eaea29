import { STATUS_CODES } from 'node:http';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { ErrorCode } from '../../core/errors.js';
import { ApiError, describeError } from '../errors.js';

/** The TAXII 2.1 media type: every answer is sent in it, every POST body must be in it. */
export const TAXII_MEDIA_TYPE = 'application/taxii+json;version=2.1';

interface MediaRange {
  type: string;
  params: Map<string, string>;
}

function parseRanges(header: string): MediaRange[] {
  const out: MediaRange[] = [];
  for (const part of header.split(',')) {
    const [head = '', ...rest] = part.split(';');
    const type = head.trim().toLowerCase();
    if (type === '') continue;
    const params = new Map<string, string>();
    for (const p of rest) {
      const eq = p.indexOf('=');
      if (eq > 0)
        params.set(
          p.slice(0, eq).trim().toLowerCase(),
          p
            .slice(eq + 1)
            .trim()
            .replace(/^"|"$/g, '')
            .toLowerCase(),
        );
    }
    out.push({ type, params });
  }
  return out;
}

/** A TAXII 2.1 media type: `application/taxii+json` with no version or version 2.1. */
function isTaxii21(r: MediaRange): boolean {
  const v = r.params.get('version');
  return r.type === 'application/taxii+json' && (v === undefined || v === '2.1');
}

/**
 * Whether an `Accept` header admits the TAXII 2.1 media type: no header, a wildcard, or
 * `application/taxii+json` (version 2.1 or none), unless its q is 0.
 */
export function acceptsTaxii(accept: string | undefined): boolean {
  if (accept === undefined || accept.trim() === '') return true;
  return parseRanges(accept).some(
    (r) =>
      r.params.get('q') !== '0' &&
      r.params.get('q') !== '0.0' &&
      (isTaxii21(r) || r.type === '*/*' || r.type === 'application/*'),
  );
}

/** Whether a request body's `Content-Type` is the TAXII 2.1 media type. */
export function isTaxiiContentType(contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  const r = parseRanges(contentType);
  const [only] = r;
  return r.length === 1 && only !== undefined && isTaxii21(only);
}

export const notAcceptable = (): ApiError =>
  new ApiError(
    406,
    'STIXGATE_ERR_API_NOT_ACCEPTABLE',
    `this route answers ${TAXII_MEDIA_TYPE} only; send it in Accept`,
  );

export const unsupportedMediaType = (): ApiError =>
  new ApiError(415, 'STIXGATE_ERR_API_UNSUPPORTED_MEDIA_TYPE', `send the body as ${TAXII_MEDIA_TYPE}`);

/** A TAXII error message resource (TAXII 2.1 §3.6.1), with the stable stixgate code as `error_code`. */
export function taxiiError(status: number, code: ErrorCode, message: string): Record<string, string> {
  return {
    title: STATUS_CODES[status] ?? 'Error',
    description: message,
    error_code: code,
    http_status: String(status),
  };
}

/**
 * The error handler of the TAXII routes: the engine's status, code and message (the same
 * decisions as every other route), in a TAXII error body and media type.
 */
export function taxiiErrorHandler(counted: (code: ErrorCode) => void) {
  return (err: FastifyError | ApiError | Error, req: FastifyRequest, reply: FastifyReply): FastifyReply => {
    const d = describeError(err, req.routeOptions.bodyLimit ?? 0);
    if (d.internal) req.log.error({ err }, 'request failed');
    counted(d.code);
    if (!req.raw.complete) reply.header('connection', 'close');
    return reply
      .code(d.status)
      .headers(d.headers ?? {})
      .header('content-type', TAXII_MEDIA_TYPE)
      .send(Buffer.from(JSON.stringify(taxiiError(d.status, d.code, d.message))));
  };
}
