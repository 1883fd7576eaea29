import { createHash } from 'node:crypto';

/**
 * The objects the VirusTotal simulator serves, in the API v3 shape (JSON:API style):
 * `{ data: { type, id, links: { self }, attributes } }`. Only the attributes an enricher reads
 * plus a few common ones are modelled; docs.virustotal.com/reference (file, URL, domain and IP
 * address objects).
 */

export interface AnalysisStats {
  malicious: number;
  suspicious: number;
  harmless: number;
  undetected: number;
  timeout?: number;
}

export type VtCollection = 'files' | 'urls' | 'domains' | 'ip_addresses';

const TYPE_OF: Record<VtCollection, string> = {
  files: 'file',
  urls: 'url',
  domains: 'domain',
  ip_addresses: 'ip_address',
};

export interface VtObject {
  type: string;
  id: string;
  links: { self: string };
  attributes: Record<string, unknown>;
}

/** base64url of the URL without padding: one of the two URL identifiers API v3 accepts. */
export function urlId(url: string): string {
  return Buffer.from(url, 'utf8').toString('base64url');
}

const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');

function stats(s: AnalysisStats): Record<string, number> {
  return {
    harmless: s.harmless,
    malicious: s.malicious,
    suspicious: s.suspicious,
    undetected: s.undetected,
    timeout: s.timeout ?? 0,
  };
}

export interface CommonFacts {
  stats: AnalysisStats;
  reputation?: number;
  /** Epoch seconds. */
  lastAnalysisDate?: number;
  tags?: string[];
}

/** In-memory VirusTotal objects keyed by collection and every identifier the API accepts. */
export class VtData {
  private readonly byKey = new Map<string, VtObject>();

  constructor(private readonly origin = 'https://www.virustotal.com') {}

  private put(collection: VtCollection, id: string, keys: string[], attributes: Record<string, unknown>): VtObject {
    const obj: VtObject = {
      type: TYPE_OF[collection],
      id,
      links: { self: `${this.origin}/api/v3/${collection}/${id}` },
      attributes,
    };
    for (const k of keys) this.byKey.set(`${collection}/${k}`, obj);
    return obj;
  }

  private common(f: CommonFacts): Record<string, unknown> {
    return {
      last_analysis_stats: stats(f.stats),
      reputation: f.reputation ?? 0,
      last_analysis_date: f.lastAnalysisDate ?? 1_700_000_000,
      tags: f.tags ?? [],
      total_votes: { harmless: 0, malicious: 0 },
    };
  }

  addFile(
    f: CommonFacts & {
      md5: string;
      sha1: string;
      sha256: string;
      name?: string;
      typeDescription?: string;
      size?: number;
      threatLabel?: string;
    },
  ): VtObject {
    return this.put(
      'files',
      f.sha256,
      [f.md5, f.sha1, f.sha256].map((h) => h.toLowerCase()),
      {
        ...this.common(f),
        md5: f.md5,
        sha1: f.sha1,
        sha256: f.sha256,
        meaningful_name: f.name ?? 'sample.bin',
        names: [f.name ?? 'sample.bin'],
        type_description: f.typeDescription ?? 'Win32 EXE',
        size: f.size ?? 1024,
        ...(f.threatLabel ? { popular_threat_classification: { suggested_threat_label: f.threatLabel } } : {}),
      },
    );
  }

  addUrl(f: CommonFacts & { url: string; title?: string }): VtObject {
    return this.put('urls', sha256(f.url), [urlId(f.url), sha256(f.url)], {
      ...this.common(f),
      url: f.url,
      last_final_url: f.url,
      title: f.title ?? '',
      categories: {},
    });
  }

  addDomain(f: CommonFacts & { domain: string; registrar?: string }): VtObject {
    return this.put('domains', f.domain, [f.domain.toLowerCase()], {
      ...this.common(f),
      registrar: f.registrar ?? 'Example Registrar',
      categories: {},
    });
  }

  addIp(f: CommonFacts & { ip: string; country?: string; asn?: number; asOwner?: string; network?: string }): VtObject {
    return this.put('ip_addresses', f.ip, [f.ip.toLowerCase()], {
      ...this.common(f),
      country: f.country ?? 'ZZ',
      asn: f.asn ?? 64500,
      as_owner: f.asOwner ?? 'Example AS',
      network: f.network ?? `${f.ip}/32`,
    });
  }

  get(collection: VtCollection, id: string): VtObject | undefined {
    return this.byKey.get(`${collection}/${collection === 'urls' ? id : id.toLowerCase()}`);
  }
}
