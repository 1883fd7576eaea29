import { StixgateError } from '../../src/core/errors.js';
import { safeJsonParse } from '../../src/core/safe-json.js';
import { openInput } from '../../src/pipeline/input.js';
import type { SourceRunContext } from '../../src/pipeline/types.js';

/** Reads a whole document (http(s) or file) as bytes, capped. */
export async function fetchBytes(
  url: string,
  ctx: SourceRunContext,
  maxBytes: number,
  headers?: Record<string, string>,
): Promise<Buffer> {
  if (headers && /^https?:/i.test(url)) {
    const res = await ctx.http.request({
      url,
      method: 'GET',
      headers,
      accept: ['application/json', 'text/plain', 'text/csv', 'application/octet-stream'],
      signal: ctx.signal,
    });
    const chunks: Buffer[] = [];
    for await (const c of res.body) chunks.push(c);
    return Buffer.concat(chunks);
  }
  const doc = await openInput(url, {
    http: ctx.http,
    signal: ctx.signal,
    maxBytes,
    name: ctx.id,
    accept: ['application/json', 'text/plain', 'text/csv', 'application/octet-stream'],
  });
  const chunks: Buffer[] = [];
  for await (const c of doc.body) chunks.push(c);
  return Buffer.concat(chunks);
}

/** Parses untrusted MISP JSON: `__proto__`/`constructor`/`prototype` keys dropped at any depth. */
export function parseMispJson(bytes: Buffer | string, what: string, source: string): unknown {
  const r = safeJsonParse(typeof bytes === 'string' ? bytes : bytes.toString('utf8'), { maxDepth: 32 });
  if (!r.ok)
    throw new StixgateError('STIXGATE_ERR_INPUT_PARSE', `${what}: ${r.message}`, {
      reason: r.reason,
      location: { source },
    });
  return r.value;
}
