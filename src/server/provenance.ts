import { contributionTlp, type AccessPolicy } from '../access/policy.js';
import type { StixObject, TlpLevel } from '../core/stix.js';

/** One contribution of a view, as `GET /api/v1/objects/:id` and the console list them. */
export interface Provenance {
  source: string;
  tlp: TlpLevel;
  first_seen: string;
  last_seen: string;
  confidence?: number;
  labels?: string[];
}

/** The contributions of a reader's view (`viewOf`), sorted by source, each with its TLP under the policy. */
export function provenanceOf(view: StixObject, policy: AccessPolicy): Provenance[] {
  const sources = view.x_stixgate?.sources ?? {};
  return Object.entries(sources)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([source, p]) => {
      return {
        source,
        tlp: contributionTlp(p, policy),
        first_seen: p.first_seen,
        last_seen: p.last_seen,
        ...(typeof p.confidence === 'number' ? { confidence: p.confidence } : {}),
        ...(Array.isArray(p.labels) && p.labels.length > 0 ? { labels: [...p.labels].sort() } : {}),
      };
    });
}
