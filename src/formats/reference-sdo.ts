import { deterministicId } from '../core/ids.js';
import type { Relationship, StixObject } from '../core/stix.js';

/**
 * Reference objects (malware families, ATT&CK techniques, CVEs) named by feeds carry only what
 * identifies them, with a fixed `created`/`modified`: every mention of a family serialises to
 * the same object (re-polls write nothing), and a richer version of the same id from another
 * source (CISA KEV's vulnerability, say) is never overwritten by this thinner one.
 */
export const REFERENCE_EPOCH = '2000-01-01T00:00:00.000Z';

const MAX_NAME = 256;

// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters in a name become spaces
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/g;

function cleanName(name: string): string | undefined {
  const t = name.replace(CONTROL_CHARS, ' ').replace(/\s+/g, ' ').trim();
  return t === '' ? undefined : t.slice(0, MAX_NAME);
}

/** A malware family by name: one id per case-insensitive name, whatever feed names it. */
export function malwareFamily(name: string): StixObject | undefined {
  const n = cleanName(name);
  if (!n) return undefined;
  return {
    type: 'malware',
    spec_version: '2.1',
    id: deterministicId('malware', `family:${n.toLowerCase()}`),
    created: REFERENCE_EPOCH,
    modified: REFERENCE_EPOCH,
    name: n,
    is_family: true,
  };
}

const ATTACK_ID_RE = /^(T\d{4})(?:\.(\d{3}))?$/;

/** An ATT&CK technique by its id (`T1059`, `T1059.001`); undefined for anything else. */
export function attackPattern(techniqueId: string, name?: string): StixObject | undefined {
  const id = techniqueId.trim().toUpperCase();
  const m = ATTACK_ID_RE.exec(id);
  if (!m) return undefined;
  const url = `https://attack.mitre.org/techniques/${m[1]}/${m[2] ? `${m[2]}/` : ''}`;
  const n = (name && cleanName(name)) || id;
  return {
    type: 'attack-pattern',
    spec_version: '2.1',
    id: deterministicId('attack-pattern', `mitre-attack:${id}`),
    created: REFERENCE_EPOCH,
    modified: REFERENCE_EPOCH,
    name: n,
    external_references: [{ source_name: 'mitre-attack', external_id: id, url }],
  };
}

const CVE_RE = /^CVE-\d{4}-\d{4,}$/;

/** A vulnerability by CVE id, with the id CISA KEV uses (`deterministicId('vulnerability', cve)`). */
export function cveVulnerability(cve: string): StixObject | undefined {
  const id = cve.trim().toUpperCase();
  if (!CVE_RE.test(id)) return undefined;
  return {
    type: 'vulnerability',
    spec_version: '2.1',
    id: deterministicId('vulnerability', id),
    created: REFERENCE_EPOCH,
    modified: REFERENCE_EPOCH,
    name: id,
    external_references: [{ source_name: 'cve', external_id: id }],
  };
}

/** `indicator indicates malware`, id from its ends, timestamps from the indicator. */
export function indicates(indicator: StixObject, target: StixObject): Relationship {
  return {
    type: 'relationship',
    spec_version: '2.1',
    id: deterministicId('relationship', `${indicator.id}|indicates|${target.id}`),
    created: indicator.created,
    modified: indicator.created,
    relationship_type: 'indicates',
    source_ref: indicator.id,
    target_ref: target.id,
  };
}

const LABEL_MAX = 64;

/** Feed tags as STIX labels: trimmed, lower-cased, bounded, deduplicated, at most 20. */
export function tagLabels(...lists: unknown[]): string[] {
  const out = new Set<string>();
  for (const list of lists) {
    const items = Array.isArray(list) ? list : list === undefined || list === null ? [] : [list];
    for (const t of items) {
      if (typeof t !== 'string') continue;
      const l = cleanName(t)?.toLowerCase().slice(0, LABEL_MAX);
      if (l) out.add(l);
      if (out.size >= 20) return [...out];
    }
  }
  return [...out];
}

/** An http(s) URL fit for `external_references[].url`, or undefined. */
export function httpUrl(v: unknown): string | undefined {
  if (typeof v !== 'string' || v.length > 2048) return undefined;
  try {
    const u = new URL(v.trim());
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.href : undefined;
  } catch {
    return undefined;
  }
}
