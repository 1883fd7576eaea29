import { createHash } from 'node:crypto';
import type { Client } from '@opensearch-project/opensearch';
import { StixgateError } from '../../core/errors.js';
import { statusOf, withRetry, type RetryPolicy } from './client.js';

/** Cursors and leases: documents in the meta index, `_id` = `<kind>:<name>`. */
export interface MetaContext {
  client: Client;
  node: string;
  index: string;
  policy: RetryPolicy;
}

interface Versioned<T> {
  source: T;
  seqNo: number;
  primaryTerm: number;
}

interface LeaseDoc {
  kind: 'lease';
  name: string;
  holder: string;
  expires_at: number;
  updated_at: number;
}

interface CursorDoc {
  kind: 'cursor';
  name: string;
  value: string;
  updated_at: number;
}

const MAX_ROUNDS = 50;

/** A document id for a name: readable when short, hashed when it would pass the 512-byte limit. */
export function metaId(kind: string, name: string): string {
  const id = `${kind}:${name}`;
  return Buffer.byteLength(id) <= 400 ? id : `${kind}#${createHash('sha256').update(name).digest('hex')}`;
}

async function read<T>(ctx: MetaContext, id: string): Promise<Versioned<T> | undefined> {
  return withRetry(ctx.node, 'get', ctx.policy, async () => {
    try {
      const r = await ctx.client.get({ index: ctx.index, id });
      const b = r.body as { _source: T; _seq_no: number; _primary_term: number };
      return { source: b._source, seqNo: b._seq_no, primaryTerm: b._primary_term };
    } catch (e) {
      if (statusOf(e) === 404) return undefined;
      throw e;
    }
  });
}

/** Writes `doc` only if the stored version is still `prev` (or still absent); false on a conflict. */
async function writeIf(
  ctx: MetaContext,
  id: string,
  doc: object,
  prev: Versioned<unknown> | undefined,
): Promise<boolean> {
  return withRetry(ctx.node, 'index', ctx.policy, async () => {
    try {
      if (prev)
        await ctx.client.index({
          index: ctx.index,
          id,
          body: doc,
          if_seq_no: prev.seqNo,
          if_primary_term: prev.primaryTerm,
        });
      else await ctx.client.create({ index: ctx.index, id, body: doc });
      return true;
    } catch (e) {
      if (statusOf(e) === 409) return false;
      throw e;
    }
  });
}

export async function getCursor(ctx: MetaContext, name: string): Promise<string | undefined> {
  return (await read<CursorDoc>(ctx, metaId('cursor', name)))?.source.value;
}

export async function setCursor(ctx: MetaContext, name: string, value: string, now = Date.now()): Promise<void> {
  const doc: CursorDoc = { kind: 'cursor', name, value, updated_at: now };
  await withRetry(ctx.node, 'index', ctx.policy, () =>
    ctx.client.index({ index: ctx.index, id: metaId('cursor', name), body: doc }),
  );
}

/**
 * Takes or renews `name` for `holder` until now+ttlMs: refused while another holder's lease is
 * unexpired. Compare-and-set on the lease document, so two instances racing for an expired
 * lease cannot both win.
 */
export async function acquireLease(
  ctx: MetaContext,
  name: string,
  holder: string,
  ttlMs: number,
  now: number,
): Promise<boolean> {
  const id = metaId('lease', name);
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const cur = await read<LeaseDoc>(ctx, id);
    if (cur && cur.source.holder !== holder && cur.source.expires_at > now) return false;
    const doc: LeaseDoc = { kind: 'lease', name, holder, expires_at: now + ttlMs, updated_at: now };
    if (await writeIf(ctx, id, doc, cur)) return true;
  }
  throw new StixgateError('STIXGATE_ERR_STORE_UNAVAILABLE', `lease ${name} is too contended`, {
    retryable: true,
    reason: 'contended',
  });
}

/** Releases `name` if `holder` holds it (a no-op otherwise). */
export async function releaseLease(ctx: MetaContext, name: string, holder: string): Promise<void> {
  const id = metaId('lease', name);
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const cur = await read<LeaseDoc>(ctx, id);
    if (!cur || cur.source.holder !== holder) return;
    const deleted = await withRetry(ctx.node, 'delete', ctx.policy, async () => {
      try {
        await ctx.client.delete({ index: ctx.index, id, if_seq_no: cur.seqNo, if_primary_term: cur.primaryTerm });
        return true;
      } catch (e) {
        const st = statusOf(e);
        if (st === 409) return false;
        if (st === 404) return true;
        throw e;
      }
    });
    if (deleted) return;
  }
}
