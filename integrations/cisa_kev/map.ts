import type { Rejection } from '../../src/core/errors.js';
import { deterministicId } from '../../src/core/ids.js';
import type { ExternalReference, Vulnerability } from '../../src/core/stix.js';

/** The `x_cisa_kev` custom property (names match `^[a-z0-9_]{3,250}$` for the OASIS validator). */
export interface CisaKevProperties {
  vendor_project?: string;
  product?: string;
  vulnerability_name?: string;
  date_added: string;
  due_date?: string;
  known_ransomware_campaign_use?: string;
  required_action?: string;
  cwes?: string[];
}

const CVE_RE = /^CVE-\d{4}-\d{4,}$/;
const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;
const URL_RE = /https?:\/\/[^\s;,]+/g;

function str(v: unknown, max = 100_000): string | undefined {
  return typeof v === 'string' && v.trim() !== '' ? v.trim().slice(0, max) : undefined;
}

function dateToStix(d: string): string | undefined {
  if (!DATE_RE.test(d)) return undefined;
  const ms = Date.parse(`${d}T00:00:00.000Z`);
  return Number.isNaN(ms) || new Date(ms).toISOString().slice(0, 10) !== d ? undefined : new Date(ms).toISOString();
}

/**
 * One KEV catalog entry → one STIX `vulnerability`. Pure and deterministic: the id comes from the
 * CVE id, created/modified from `dateAdded` (never the clock).
 */
function uriOf(text: string): string | undefined {
  try {
    const u = new URL(text);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.href : undefined;
  } catch {
    return undefined;
  }
}

export function mapKevEntry(
  entry: unknown,
  location: Rejection['location'],
): { ok: true; object: Vulnerability } | { ok: false; rejection: Rejection } {
  const rej = (reason: string, message: string) => ({ ok: false as const, rejection: { reason, message, location } });
  if (entry === null || typeof entry !== 'object' || Array.isArray(entry))
    return rej('not_object', 'KEV entry is not a JSON object');
  const e = entry as Record<string, unknown>;
  const cve = str(e.cveID, 64);
  if (!cve || !CVE_RE.test(cve))
    return rej('bad_cve', `cveID ${JSON.stringify(String(e.cveID ?? '').slice(0, 40))} is not a CVE id`);
  const added = typeof e.dateAdded === 'string' ? dateToStix(e.dateAdded) : undefined;
  if (!added) return rej('bad_timestamp', `dateAdded of ${cve} is not a YYYY-MM-DD date`);
  const refs: ExternalReference[] = [{ source_name: 'cve', external_id: cve }];
  const notes = str(e.notes);
  if (notes) {
    const seen = new Set<string>();
    for (const raw of notes.match(URL_RE) ?? []) {
      // the notes are free text: strip trailing punctuation/quotes, and percent-encode what a URI
      // may not contain (KEV has a stray `"` and a full-width `＿` in its notes)
      const u = uriOf(raw.replace(/["'.,;:)\]}>]+$/, ''));
      if (!u || seen.has(u) || seen.size >= 50) continue;
      seen.add(u);
      refs.push({ source_name: 'cisa-kev-notes', url: u });
    }
  }
  const kev: CisaKevProperties = { date_added: e.dateAdded as string };
  const vendor = str(e.vendorProject, 1000);
  if (vendor) kev.vendor_project = vendor;
  const product = str(e.product, 1000);
  if (product) kev.product = product;
  const vname = str(e.vulnerabilityName, 1000);
  if (vname) kev.vulnerability_name = vname;
  const due = str(e.dueDate, 32);
  if (due && dateToStix(due)) kev.due_date = due;
  const ransomware = str(e.knownRansomwareCampaignUse, 64);
  if (ransomware) kev.known_ransomware_campaign_use = ransomware;
  const action = str(e.requiredAction, 10_000);
  if (action) kev.required_action = action;
  if (Array.isArray(e.cwes)) {
    const cwes = e.cwes
      .filter((c): c is string => typeof c === 'string' && /^CWE-\d+$|^NVD-CWE-/.test(c))
      .slice(0, 100);
    if (cwes.length) kev.cwes = cwes;
  }
  const v: Vulnerability = {
    type: 'vulnerability',
    spec_version: '2.1',
    id: deterministicId('vulnerability', cve),
    created: added,
    modified: added,
    name: cve,
  };
  const desc = str(e.shortDescription);
  if (desc) v.description = desc;
  v.external_references = refs;
  v.x_cisa_kev = kev;
  return { ok: true, object: v };
}
