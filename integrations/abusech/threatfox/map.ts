import { group } from '../../../src/core/indexed.js';
import type { ExternalReference, HashAlgorithm, ObservableType } from '../../../src/core/stix.js';
import { asObject, feedRecord, reject, str, type MapEnv } from '../common-map.js';
import { httpUrl, tagLabels } from '../../../src/formats/reference-sdo.js';
import { parseApiTime } from '../../../src/formats/api-time.js';
import type { MappedRecord } from '../../../src/formats/time-window.js';

/** ThreatFox `ioc_type` → observable (https://threatfox.abuse.ch/api/#types). */
export const THREATFOX_IOC_TYPES: Readonly<Record<string, { type: ObservableType; hash?: HashAlgorithm }>> = {
  'ip:port': { type: 'ipv4-addr' },
  domain: { type: 'domain-name' },
  url: { type: 'url' },
  md5_hash: { type: 'file', hash: 'MD5' },
  sha1_hash: { type: 'file', hash: 'SHA-1' },
  sha256_hash: { type: 'file', hash: 'SHA-256' },
};

/** `1.2.3.4:80` / `[2001:db8::1]:443` → host and port. */
function splitIpPort(v: string): { host: string; port?: string; v6: boolean } {
  const m6 = /^\[([^\]]+)\](?::(\d{1,5}))?$/.exec(v);
  if (m6) return { host: group(m6, 1), port: m6[2], v6: true };
  const m4 = /^([^:]+):(\d{1,5})$/.exec(v);
  if (m4) return { host: group(m4, 1), port: m4[2], v6: false };
  return { host: v, v6: v.includes(':') };
}

/** ThreatFox IOC → indicator (confidence_level, first/last seen) + its malware family. Pure. */
export function mapThreatfoxIoc(rec: unknown, index: number, env: MapEnv): MappedRecord {
  const location = { source: env.source, index };
  const r = asObject(rec);
  if (!r) return reject('not_object', 'ThreatFox record is not a JSON object', location);
  const id = str(String(r.id ?? ''), 32);
  const loc = { ...location, ...(id ? { objectId: `threatfox:${id}` } : {}) };
  const iocType = str(r.ioc_type, 32);
  const spec = iocType ? THREATFOX_IOC_TYPES[iocType] : undefined;
  if (!spec)
    return reject(
      'unsupported_type',
      `ThreatFox ioc_type ${JSON.stringify(String(r.ioc_type ?? '')).slice(0, 40)} is not mapped`,
      loc,
    );
  let value = str(r.ioc, 8192);
  if (!value) return reject('missing_value', 'ThreatFox record has no ioc', loc);
  let type = spec.type;
  let port: string | undefined;
  if (iocType === 'ip:port') {
    const p = splitIpPort(value);
    value = p.host;
    port = p.port;
    if (p.v6) type = 'ipv6-addr';
  }
  const conf =
    typeof r.confidence_level === 'number' && r.confidence_level >= 0 && r.confidence_level <= 100
      ? Math.round(r.confidence_level)
      : undefined;
  const threat = str(r.threat_type, 64);
  const malware = str(r.malware_printable, 128);
  const refs: ExternalReference[] = [];
  if (id)
    refs.push({
      source_name: 'threatfox',
      external_id: id,
      url: `https://threatfox.abuse.ch/ioc/${encodeURIComponent(id)}/`,
    });
  const reference = httpUrl(r.reference);
  if (reference) refs.push({ source_name: 'threatfox-reference', url: reference });
  const malpedia = httpUrl(r.malware_malpedia);
  if (malpedia) refs.push({ source_name: 'malpedia', url: malpedia });
  const reporter = str(r.reporter, 128);
  const desc = [
    `ThreatFox${threat ? ` ${threat}` : ''}${malware && malware.toLowerCase() !== 'unknown malware' ? ` (${malware})` : ''}`,
    port ? `port ${port}` : '',
    reporter ? `reported by ${reporter}` : '',
  ].filter(Boolean);
  return feedRecord(
    {
      type,
      hash: spec.hash,
      value,
      firstSeen: parseApiTime(r.first_seen),
      lastSeen: parseApiTime(r.last_seen),
      description: desc.join(', '),
      labels: tagLabels(threat, r.tags),
      confidence: conf,
      refs,
      malware: malware && malware.toLowerCase() !== 'unknown malware' ? [malware] : [],
      location: loc,
    },
    env,
  );
}
