import { lookupNoteId } from '../../src/enrich/records.js';
import type { EnrichmentResult } from '../../src/enrich/types.js';
import type { Observable, StixObject } from '../../src/core/stix.js';

/**
 * VirusTotal API v3 object → enrichment result. Pure: the lookup note's id comes from the
 * enricher id and the value, its time from the caller.
 *
 * maliciousness = min(100, round(100 × (malicious + suspicious / 2) / (full_score_share × engines)))
 * where engines = malicious + suspicious + harmless + undetected (timeouts and unsupported
 * engines have no opinion). With the default share 0.1, one engine in 90 gives 11, nine give
 * 100. No engine result at all, or only `undetected` ones (scanned, nothing to say): no opinion
 * (undefined), so a value nobody has a verdict on never lowers a score.
 */

export interface VtStats {
  malicious: number;
  suspicious: number;
  harmless: number;
  undetected: number;
}

export function readStats(v: unknown): VtStats | undefined {
  if (!v || typeof v !== 'object') return undefined;
  const o = v as Record<string, unknown>;
  const n = (k: string): number =>
    typeof o[k] === 'number' && Number.isFinite(o[k]) && (o[k] as number) >= 0 ? (o[k] as number) : 0;
  return {
    malicious: n('malicious'),
    suspicious: n('suspicious'),
    harmless: n('harmless'),
    undetected: n('undetected'),
  };
}

export function maliciousness(stats: VtStats, fullScoreShare: number): number | undefined {
  const engines = stats.malicious + stats.suspicious + stats.harmless + stats.undetected;
  if (engines === 0 || stats.malicious + stats.suspicious + stats.harmless === 0) return undefined;
  const flagged = stats.malicious + stats.suspicious / 2;
  return Math.min(100, Math.round((100 * flagged) / (fullScoreShare * engines)));
}

const GUI: Record<string, string> = { file: 'file', url: 'url', domain: 'domain', ip_address: 'ip-address' };

/** The GUI link of a report (for the note's external reference). */
function guiUrl(type: string, id: string): string | undefined {
  const kind = GUI[type];
  return kind ? `https://www.virustotal.com/gui/${kind}/${encodeURIComponent(id)}` : undefined;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** The note text: engine counts, reputation and the facts worth a glance, one per line. */
function content(stats: VtStats, a: Record<string, unknown>): string {
  const engines = stats.malicious + stats.suspicious + stats.harmless + stats.undetected;
  const lines = [
    `VirusTotal engines: ${stats.malicious} malicious, ${stats.suspicious} suspicious, ${stats.harmless} harmless, ${stats.undetected} undetected (of ${engines})`,
  ];
  if (typeof a.reputation === 'number') lines.push(`reputation: ${a.reputation}`);
  if (typeof a.last_analysis_date === 'number')
    lines.push(`last analysis: ${new Date(a.last_analysis_date * 1000).toISOString()}`);
  const label = (a.popular_threat_classification as { suggested_threat_label?: unknown } | undefined)
    ?.suggested_threat_label;
  if (str(label)) lines.push(`threat label: ${label}`);
  if (str(a.meaningful_name)) lines.push(`name: ${a.meaningful_name}`);
  if (str(a.type_description)) lines.push(`file type: ${a.type_description}`);
  if (str(a.country)) lines.push(`country: ${a.country}`);
  if (typeof a.asn === 'number') lines.push(`AS${a.asn}${str(a.as_owner) ? ` ${a.as_owner}` : ''}`);
  if (str(a.registrar)) lines.push(`registrar: ${a.registrar}`);
  if (str(a.last_final_url) && a.last_final_url !== a.url) lines.push(`final URL: ${a.last_final_url}`);
  if (Array.isArray(a.tags) && a.tags.length > 0)
    lines.push(
      `tags: ${a.tags
        .filter((t) => typeof t === 'string')
        .slice(0, 20)
        .join(', ')}`,
    );
  return lines.join('\n');
}

export function mapReport(
  data: { type?: unknown; id?: unknown; attributes?: unknown },
  observable: Observable,
  o: { enricherId: string; fullScoreShare: number },
): EnrichmentResult {
  const a = data.attributes && typeof data.attributes === 'object' ? (data.attributes as Record<string, unknown>) : {};
  const stats = readStats(a.last_analysis_stats) ?? { malicious: 0, suspicious: 0, harmless: 0, undetected: 0 };
  const m = maliciousness(stats, o.fullScoreShare);
  const engines = stats.malicious + stats.suspicious + stats.harmless + stats.undetected;
  const link = typeof data.type === 'string' && typeof data.id === 'string' ? guiUrl(data.type, data.id) : undefined;
  const note: StixObject = {
    type: 'note',
    id: lookupNoteId(o.enricherId, observable),
    abstract: `VirusTotal: ${stats.malicious + stats.suspicious}/${engines} engines flag ${observable.value}${m !== undefined ? ` (maliciousness ${m})` : ''}`,
    content: content(stats, a),
    object_refs: [],
    ...(link
      ? {
          external_references: [
            { source_name: 'virustotal', url: link, ...(typeof data.id === 'string' ? { external_id: data.id } : {}) },
          ],
        }
      : {}),
  };
  return { ...(m !== undefined ? { maliciousness: m } : {}), objects: [note] };
}
