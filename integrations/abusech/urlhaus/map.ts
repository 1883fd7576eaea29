import { asObject, str, feedRecord, openRecord, type MapEnv } from '../common-map.js';
import { httpUrl, tagLabels } from '../../../src/formats/reference-sdo.js';
import { parseApiTime } from '../../../src/formats/api-time.js';
import type { MappedRecord } from '../../../src/formats/time-window.js';
import type { ExternalReference } from '../../../src/core/stix.js';

const HEX = /^[0-9a-f]+$/i;

/** URLhaus `urls/recent` record → url indicator. Pure. */
export function mapUrlhausUrl(rec: unknown, index: number, env: MapEnv): MappedRecord {
  const o = openRecord(rec, index, env, 'URLhaus record', 'url', 8192);
  if ('rejected' in o) return o.rejected;
  const { r, value: url, location } = o;
  const id = str(r.id, 32);
  const refs: ExternalReference[] = [];
  const ref = httpUrl(r.urlhaus_reference);
  if (id || ref)
    refs.push({ source_name: 'urlhaus', ...(id ? { external_id: id } : {}), ...(ref ? { url: ref } : {}) });
  const threat = str(r.threat, 64);
  const status = str(r.url_status, 32);
  const reporter = str(r.reporter, 128);
  const parts = [
    `URLhaus${threat ? ` ${threat}` : ''}`,
    status ? `status ${status}` : '',
    reporter ? `reported by ${reporter}` : '',
  ].filter(Boolean);
  return feedRecord(
    {
      type: 'url',
      value: url,
      firstSeen: parseApiTime(r.date_added),
      lastSeen: parseApiTime(r.last_online),
      description: parts.join(', '),
      labels: tagLabels(threat, r.tags),
      refs,
      location: { ...location, ...(id ? { objectId: `urlhaus:${id}` } : {}) },
    },
    env,
  );
}

/** URLhaus `payloads/recent` record → file (SHA-256) indicator, its signature as a malware family. Pure. */
export function mapUrlhausPayload(rec: unknown, index: number, env: MapEnv): MappedRecord {
  const o = openRecord(rec, index, env, 'URLhaus payload record', 'sha256_hash', 128);
  if ('rejected' in o) return o.rejected;
  const { r, value: sha256, location } = o;
  const md5 = str(r.md5_hash, 64);
  const fileType = str(r.file_type, 32);
  const signature = str(r.signature, 128);
  const size = str(String(r.file_size ?? ''), 20);
  const refs: ExternalReference[] = [
    {
      source_name: 'urlhaus',
      url: `https://urlhaus.abuse.ch/browse.php?search=${encodeURIComponent(sha256.toLowerCase())}`,
    },
  ];
  const desc = [
    `URLhaus payload${fileType ? ` (${fileType}` : ''}${fileType && size ? `, ${size} bytes)` : fileType ? ')' : ''}`,
    md5 && HEX.test(md5) ? `MD5 ${md5.toLowerCase()}` : '',
    signature ? `signature ${signature}` : '',
  ].filter(Boolean);
  return feedRecord(
    {
      type: 'file',
      hash: 'SHA-256',
      value: sha256,
      firstSeen: parseApiTime(r.firstseen),
      description: desc.join(', '),
      labels: tagLabels('payload', fileType),
      refs,
      malware: [signature],
      location: { ...location, objectId: `urlhaus:${sha256.slice(0, 64)}` },
    },
    env,
  );
}

/** The time a URLhaus record was added (the window key), epoch ms. */
export function urlhausTime(rec: unknown): number | undefined {
  const r = asObject(rec);
  const t = r ? parseApiTime(r.date_added ?? r.firstseen) : undefined;
  return t ? Date.parse(t) : undefined;
}
