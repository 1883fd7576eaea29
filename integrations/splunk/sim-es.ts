import { ES_INTEL_APP, ES_INTEL_COLLECTIONS, json, type KvStore, type SimResponse } from './sim-kv.js';
import type { Doc } from './sim-kv-query.js';

/**
 * Enterprise Security threat-intel REST API (`/services/data/threat_intel/item/{collection}[/{key}]`,
 * Splunk Enterprise Security's threat intelligence API, deprecated in ES 8) over the ES KV collections. Bodies are
 * `{"message": …, "status": true|false}`; the statuses and texts of failures are [UNCERTAIN] in the
 * spec and chosen here as 400/404.
 */

/** "Important fields": at least one is required as search criteria on GET (§4.1). */
const IMPORTANT: Record<string, string[]> = {
  user_intel: ['user'],
  file_intel: ['file_name', 'file_hash'],
  ip_intel: ['ip', 'domain'],
  http_intel: ['http_user_agent', 'ip', 'http_referrer', 'url', 'domain'],
  email_intel: ['embedded_domain', 'src_user', 'subject', 'file_name', 'file_hash'],
};

const reply = (status: number, message: unknown, ok: boolean): SimResponse => json(status, { message, status: ok });

function parseItem(s: string | null): unknown {
  if (s === null) return undefined;
  try {
    return JSON.parse(s);
  } catch {
    return undefined;
  }
}

export function esItem(
  kv: KvStore,
  method: string,
  collection: string,
  key: string | undefined,
  form: URLSearchParams,
  q: URLSearchParams,
  user: string,
): SimResponse {
  if (!(collection in ES_INTEL_COLLECTIONS)) return reply(400, `Invalid threat intel collection: ${collection}`, false);
  const c = kv.find(ES_INTEL_APP, collection);
  if (!c) return reply(404, `Collection ${collection} does not exist`, false);
  if (key === undefined) {
    if (method === 'GET') {
      const item = parseItem(q.get('item'));
      if (!item || typeof item !== 'object' || Array.isArray(item))
        return reply(400, 'Parameter "item" must be a JSON object', false);
      const crit = Object.entries(item as Doc);
      const imp = IMPORTANT[collection];
      if (imp && !crit.some(([k]) => imp.includes(k)))
        return reply(400, `At least one of ${imp.join(', ')} is required`, false);
      const rows = [...c.docs.values()].filter((d) => crit.every(([k, v]) => d[k] === v));
      return rows.length ? reply(200, rows, true) : reply(200, 'No matching entries found in kvstore.', false);
    }
    if (method === 'POST') {
      const items = parseItem(form.get('item'));
      if (!Array.isArray(items)) return reply(400, 'Parameter "item" must be a JSON array of objects', false);
      const keys: string[] = [];
      for (const it of items as Doc[]) {
        const r = kv.data(
          'POST',
          ES_INTEL_APP,
          collection,
          'batch_save',
          Buffer.from(JSON.stringify([{ time: Date.now() / 1000, weight: 60, ...it }])),
          new URLSearchParams(),
          user,
        );
        if (r.status !== 200) return reply(400, JSON.parse(r.body), false);
        keys.push(...(JSON.parse(r.body) as string[]));
      }
      return reply(200, `Created ${keys.length} item(s).`, true);
    }
    return reply(405, `Method ${method} not allowed`, false);
  }
  const doc = c.docs.get(key);
  if (method === 'GET') return doc ? reply(200, doc, true) : reply(200, 'No matching entries found in kvstore.', false);
  if (!doc) return reply(404, `No item with key ${key}`, false);
  if (method === 'POST' || method === 'PUT') {
    const item = parseItem(form.get('item'));
    if (!item || typeof item !== 'object' || Array.isArray(item))
      return reply(400, 'Parameter "item" must be a JSON object', false);
    kv.data(
      'POST',
      ES_INTEL_APP,
      collection,
      'batch_save',
      Buffer.from(JSON.stringify([{ ...doc, ...(item as Doc), _key: key }])),
      new URLSearchParams(),
      user,
    );
    return reply(200, c.docs.get(key), true);
  }
  if (method === 'DELETE') {
    c.docs.delete(key);
    return reply(200, `Deleted item ${key}.`, true);
  }
  return reply(405, `Method ${method} not allowed`, false);
}
