import type { FastifyRequest } from 'fastify';
import { isRecord } from '../../core/guards.js';
import { ApiError } from '../errors.js';

/** The path parameters of the TAXII routes; each route has those its path names. */
export interface TaxiiParams {
  root?: string;
  collection?: string;
  object?: string;
  status?: string;
}

const NAMES = ['root', 'collection', 'object', 'status'] as const;

/** The path parameters fastify matched for this request. */
export function taxiiParams(req: FastifyRequest): TaxiiParams {
  const p: unknown = req.params;
  const out: TaxiiParams = {};
  if (!isRecord(p)) return out;
  for (const name of NAMES) {
    const v = p[name];
    if (typeof v === 'string') out[name] = v;
  }
  return out;
}

/** One path parameter of a route whose path names it (a route without it answers 404). */
export function taxiiParam(req: FastifyRequest, name: keyof TaxiiParams): string {
  const v = taxiiParams(req)[name];
  if (v === undefined) throw new ApiError(404, 'STIXGATE_ERR_API_NOT_FOUND', `no ${name} in this path`);
  return v;
}
