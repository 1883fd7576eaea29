import type { StixObject, Observable, ObservableType } from '../core/stix.js';
import type { Schema } from '../core/schema.js';
import type { IntegrationContext } from '../pipeline/types.js';
import type { SinkRunContext } from '../delivery/types.js';

// ---------------------------------------------------------------------------------------------
// Enrichers (change-log consumers that add context; src/enrich/runner.ts)
// ---------------------------------------------------------------------------------------------

/** The result of one enrichment lookup, stored as STIX and fed into the score. */
export interface EnrichmentResult {
  /** 0-100: how malicious the service thinks the value is; undefined when it has no opinion. */
  maliciousness?: number;
  /** STIX objects to store (notes, observed-data, SCOs with extensions, relationships). */
  objects: StixObject[];
  /** Values discovered (e.g. passive-DNS resolutions) for correlation. */
  related?: Observable[];
}

export interface Enricher {
  /** Observable types this service can enrich. */
  types: ObservableType[];
  /** One lookup; returns undefined when the service knows nothing about the value. Throws on errors. */
  enrich(observable: Observable, ctx: SinkRunContext): Promise<EnrichmentResult | undefined>;
  /**
   * `validate --probe`: one minimal authenticated request that shows the service answers and
   * accepts the configured credentials; returns a one-line summary, throws what `enrich` would.
   */
  probe?(ctx: SinkRunContext): Promise<string>;
}

export interface EnricherDefinition<C = unknown> {
  kind: 'enricher';
  type: string;
  summary: string;
  schema: Record<string, Schema<unknown>>;
  secretPaths: string[];
  /** The free tier's quota, the default rate limit. */
  defaultQuota: { per_minute?: number; per_day?: number };
  create(config: C, ctx: IntegrationContext): Enricher;
}
