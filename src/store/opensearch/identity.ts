import { randomUUID } from 'node:crypto';
import type { Client } from '@opensearch-project/opensearch';
import { StixgateError } from '../../core/errors.js';
import { statusOf } from './client.js';
import type { IndexNames } from './mappings.js';

/**
 * The store's identity (docs/adr/0023-per-writer-change-log.md): a document `store:identity`
 * in the meta index with a store id, the change-log epoch and the UUIDs of the two indices.
 * An instance remembers what it found at open; when the live indices or the document differ
 * later (deleted, recreated by a write, restored from elsewhere), the store is replaced under
 * it and every call fails closed with STIXGATE_ERR_STORE_REPLACED.
 */
export interface StoreIdentity {
  storeId: string;
  /** Change-log positions are microseconds since this instant (ms since 1970). */
  epochMs: number;
  objectsUuid: string;
  metaUuid: string;
}

export const IDENTITY_ID = 'store:identity';
const LEGACY_COUNTER_ID = 'sequence:changes';

interface IdentityDoc {
  kind: 'store';
  name: 'identity';
  value: string;
  updated_at: number;
}

/** The UUIDs of the live indices (a missing index has none). */
export async function indexUuids(client: Client, names: IndexNames): Promise<Map<string, string>> {
  const r = await client.indices.getSettings({
    index: `${names.objects},${names.meta}`,
    name: 'index.uuid',
    ignore_unavailable: true,
  });
  const out = new Map<string, string>();
  for (const [name, v] of Object.entries(r.body)) {
    const uuid = v.settings?.index?.uuid;
    if (typeof uuid === 'string') out.set(name, uuid);
  }
  return out;
}

/** The identity kept in the document's `value`; a damaged one reads as none (open then fails closed). */
function parseIdentity(value: unknown): StoreIdentity | undefined {
  if (typeof value !== 'string') return undefined;
  let v: unknown;
  try {
    v = JSON.parse(value);
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null) return undefined;
  const o: Record<string, unknown> = { ...v };
  const { storeId, epochMs, objectsUuid, metaUuid } = o;
  if (typeof storeId !== 'string' || typeof epochMs !== 'number' || typeof objectsUuid !== 'string') return undefined;
  if (typeof metaUuid !== 'string') return undefined;
  return { storeId, epochMs, objectsUuid, metaUuid };
}

async function readIdentity(client: Client, names: IndexNames): Promise<StoreIdentity | undefined> {
  try {
    const r = await client.get({ index: names.meta, id: IDENTITY_ID });
    return parseIdentity(r.body._source?.value);
  } catch (e) {
    if (statusOf(e) === 404) return undefined;
    throw e;
  }
}

/** The highest change-log position already used (objects' seq and the previous counter). */
async function highestPosition(client: Client, names: IndexNames): Promise<number> {
  await client.indices.refresh({ index: names.objects });
  const r = await client.search({
    index: names.objects,
    body: { size: 1, sort: [{ seq: { order: 'desc' } }], _source: ['seq'] },
  });
  const hit = r.body.hits.hits[0]?._source;
  let top = typeof hit?.seq === 'number' ? hit.seq : 0;
  try {
    const c = await client.get({ index: names.meta, id: LEGACY_COUNTER_ID });
    const next: unknown = c.body._source?.next;
    if (typeof next === 'number') top = Math.max(top, next);
  } catch (e) {
    if (statusOf(e) !== 404) throw e;
  }
  return top;
}

/**
 * Reads the identity at open, creating it for a new store (or one written by a previous version:
 * the epoch then puts every new position above every old one, so stored cursors stay valid).
 * An identity whose recorded UUIDs differ from the live ones is adopted with the live UUIDs:
 * a starting instance has no position to lose; `adopted` tells the caller to report it.
 */
export async function openIdentity(
  client: Client,
  names: IndexNames,
  now: number,
): Promise<{ identity: StoreIdentity; adopted?: StoreIdentity }> {
  for (let round = 0; round < 5; round++) {
    const uuids = await indexUuids(client, names);
    const live = { objectsUuid: uuids.get(names.objects) ?? '', metaUuid: uuids.get(names.meta) ?? '' };
    const found = await readIdentity(client, names);
    if (found && found.objectsUuid === live.objectsUuid && found.metaUuid === live.metaUuid) return { identity: found };
    const identity: StoreIdentity = found
      ? { ...found, ...live }
      : {
          storeId: randomUUID(),
          epochMs: now - Math.ceil((await highestPosition(client, names)) / 1000) - 1000,
          ...live,
        };
    const doc: IdentityDoc = { kind: 'store', name: 'identity', value: JSON.stringify(identity), updated_at: now };
    try {
      if (found) await client.index({ index: names.meta, id: IDENTITY_ID, body: doc });
      else await client.create({ index: names.meta, id: IDENTITY_ID, body: doc });
      return found ? { identity, adopted: found } : { identity };
    } catch (e) {
      if (statusOf(e) !== 409) throw e; // another instance created it first: read theirs
    }
  }
  throw new StixgateError('STIXGATE_ERR_STORE_UNAVAILABLE', 'store identity is too contended', {
    retryable: true,
    reason: 'contended',
  });
}

/** Throws STIXGATE_ERR_STORE_REPLACED when the live store is not the one opened. */
export async function checkIdentity(client: Client, names: IndexNames, expected: StoreIdentity): Promise<void> {
  const uuids = await indexUuids(client, names);
  const problems: string[] = [];
  for (const [name, want] of [
    [names.objects, expected.objectsUuid],
    [names.meta, expected.metaUuid],
  ] as const) {
    const got = uuids.get(name);
    if (got !== want) problems.push(got ? `${name} was replaced (uuid ${got}, opened ${want})` : `${name} is gone`);
  }
  if (problems.length === 0) {
    const found = await readIdentity(client, names);
    if (found?.storeId !== expected.storeId)
      problems.push(`the identity document of store ${expected.storeId} is gone`);
  }
  if (problems.length > 0) {
    throw new StixgateError(
      'STIXGATE_ERR_STORE_REPLACED',
      `OpenSearch store was replaced under this instance: ${problems.join('; ')}; restart every instance to re-sync (docs/opensearch.md#store-identity)`,
      { reason: 'replaced' },
    );
  }
}
