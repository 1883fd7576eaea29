import type { ObservableType, TlpLevel } from '../core/stix.js';
import type { AccessPolicy } from '../access/policy.js';

/** How a looked-up value reached an indicator. */
export type MatchKind = 'exact' | 'cidr' | 'domain';

export interface IndicatorMatch {
  id: string;
  match: MatchKind;
  /** The listed value that matched (the CIDR, the listed domain, or the value itself). */
  matched_value: string;
  score: number | null;
  tlp: TlpLevel;
  labels: readonly string[];
  /** Configured source ids that delivered the indicator. */
  sources: readonly string[];
  first_seen: string | null;
  last_seen: string | null;
  valid_until: string | null;
  /** Sightings reported through POST /api/v1/sightings. */
  sightings: number;
}

/**
 * An expired or revoked indicator listing the looked-up value (`include_inactive=true`): never a
 * hit, reported beside the hits with its state and when it ended.
 */
export interface InactiveMatch extends Omit<IndicatorMatch, 'match' | 'sightings'> {
  state: 'expired' | 'revoked';
  /** When it stopped being served: the revocation's `modified`, or the `valid_until` it expired at. */
  ended: string | null;
}

export interface LookupResult {
  /** The canonical value (or the raw input when it is not a valid observable). */
  value: string;
  type?: ObservableType;
  matched: boolean;
  /** Set when the input is not a valid observable: the reason from the normaliser. */
  invalid?: string;
  indicators: IndicatorMatch[];
  /**
   * Warninglists / publish allowlist entries the value is on (set by the API when lists are loaded),
   * also those that do not withhold it under the PSL rule (`private_suffix`, docs/warninglists.md).
   */
  warninglists?: {
    list: string;
    type: string;
    entry: string;
    source: string /** set when the hit does not withhold the value (the PSL rule) */;
    private_suffix?: string;
  }[];
  /** Expired and revoked indicators listing the value (set by the API on `include_inactive=true`). */
  inactive?: InactiveMatch[];
  /** Names of what the matched indicators are linked to (set by the API on `related=true`). */
  related?: Record<string, string[]>;
  /** Each sink's state for the value, from the delivery ledger (set by the API on `deliveries=true`; src/delivery/why.ts). */
  deliveries?: readonly object[];
}

export interface LookupIndexOptions {
  /** A host `a.evil.com` also hits a listed parent domain `evil.com`. Default true. */
  matchParentDomains?: boolean;
  /** The access policy (default_tlp, scoring) answers are computed under (src/access). */
  access?: AccessPolicy;
  /** Cap on indicators reported per looked-up value (bounded response size). Default 100. */
  maxMatchesPerValue?: number;
  /** Entries per Map of one kind before the next shard starts (src/core/sharded-map.ts); tests lower it. */
  mapShardLimit?: number;
}

/** Index sizes by kind, for `stixgate_lookup_index_entries{kind}`. */
export interface IndexSizes {
  indicators: number;
  ipv4: number;
  ipv6: number;
  ipv4_cidr: number;
  ipv6_cidr: number;
  domain: number;
  url: number;
  email: number;
  hash: number;
  x509: number;
}
