import type { DocumentGuard } from './poison.js';
import type { Logger } from '../telemetry/logger.js';
import type { Rejection } from '../core/errors.js';
import type { StixObject, TlpLevel } from '../core/stix.js';
import type { Schema } from '../core/schema.js';
import type { HttpClient } from '../http/types.js';
import type { NetworkConfig } from '../http/network.js';

// ---------------------------------------------------------------------------------------------
// Sources
// ---------------------------------------------------------------------------------------------

/** What one source item carries into the store. */
export interface MappedItem {
  object: StixObject;
  /** Confidence the source assigns (0-100), when known per record. */
  confidence?: number;
  /** When the source says it saw the record (RFC 3339). */
  seenAt?: string;
}

/** A page of mapped records and the cursor to commit once the store has accepted it. */
export interface Page {
  items: MappedItem[];
  rejections: Rejection[];
  /** Raw records read for this page (lines, rows, objects). */
  received: number;
  /**
   * The cursor after this page. Committed atomically with the page's objects. Undefined means
   * "no cursor change" (e.g. a page in the middle of a document).
   */
  cursor?: string;
  /** Notes on the input that reject nothing (e.g. a document of an unexpected kind, read anyway): logged by the runner, printed by convert. */
  warnings?: string[];
  /** How the source read the document (e.g. the columns the generic CSV mode chose); `convert --explain` prints it, the runner logs it. */
  explain?: string[];
}

/** What every run of a component (source, sink, enricher) is handed. */
export interface RunContext {
  /** The configured component id. */
  id: string;
  logger: Logger;
  http: HttpClient;
  signal: AbortSignal;
  /** The injected clock (epoch ms). Mappers take time from here, never from Date.now(). */
  now: number;
}

export interface SourceRunContext extends RunContext {
  /** The last committed cursor, if any. */
  cursor?: string;
  /** Force a full fetch, ignoring conditional-GET cursors (`--full`). */
  full?: boolean;
  /** Poison-document tracking (./poison.ts): document sources pass it to `openInput`. */
  documents?: DocumentGuard;
}

export interface Source {
  /** Pages of one run, in order. The runner commits each page's cursor after the store accepted it. */
  pages(ctx: SourceRunContext): AsyncIterable<Page>;
  /** Reaches the remote system without ingesting; returns a short human summary. */
  probe?(ctx: SourceRunContext): Promise<string>;
}

/** The keys every source accepts, handled by the engine (scheduler, runner, HTTP policy). */
export interface CommonSourceConfig extends NetworkConfig {
  type: string;
  enabled: boolean;
  /** cron expression (node-cron syntax, UTC unless `timezone`). */
  schedule?: string;
  interval_secs?: number;
  timezone?: string;
  /** Run once shortly after start-up (default true). */
  run_on_start?: boolean;
  /** Default confidence (0-100) for objects without their own. */
  confidence?: number;
  /** TLP of this source's contribution when an object carries no TLP marking (else `default_tlp`). */
  tlp?: TlpLevel;
  labels: string[];
  /** Days an indicator stays valid after it was last seen, when the source gives no valid_until. */
  valid_days?: number;
  timeout_secs: number;
  max_feed_bytes: number;
  allow_private: boolean;
  allow_insecure: boolean;
  /** Reject the whole document when more than this share of its records are bad (0-1). */
  max_bad_ratio: number;
  /** `max_bad_ratio` is judged only for documents of at least this many records (default BAD_RATIO_MIN_RECORDS). */
  bad_ratio_min_records?: number;
  /** Widest CIDR ranges accepted (the value gate, src/core/value-gate.ts). */
  min_prefix: { ipv4: number; ipv6: number };
  /** Values from this source are published even when a warninglist lists them. */
  trusted: boolean;
  retry: { max_attempts: number; base_delay_secs: number; max_delay_secs: number };
}

export interface IntegrationContext {
  logger: Logger;
  /** The configuration file's directory: relative paths in the config resolve from here. */
  configDir: string;
  /** The project's mappings directory. */
  mappingsDir: string;
}

/** A registry entry as the runners see it: its kind and its type id (the union is src/config/registry.ts). */
export interface RegistryEntry {
  kind: string;
  type: string;
}

export interface SourceDefinition<C = unknown> {
  kind: 'source';
  /** snake_case type id, the `type:` in YAML and FORMAT in `stixgate convert --from`. */
  type: string;
  summary: string;
  /** The integration's own keys; the engine adds CommonSourceConfig keys. */
  schema: Record<string, Schema<unknown>>;
  /** Dotted config paths holding secrets. */
  secretPaths: string[];
  /**
   * How a failed transfer is committed (docs/networks.md#atomic-documents):
   * `document`: the source reads whole documents through `openInput`, which downloads each one
   * completely before its first page: a transfer that fails commits nothing of that document and
   * leaves the cursor where it was. A document that downloads whole but fails part-way through
   * mapping keeps the store transactions already made (whole objects), never its cursor.
   * `pages`: each page is its own request and carries its own cursor (TAXII, MISP API, OTX,
   * abuse.ch APIs): pages are independent, a failed request ends the run and the pages before it
   * stay committed with their cursor.
   */
  transfer: 'document' | 'pages';
  create(config: C & CommonSourceConfig, ctx: IntegrationContext): Source;
}
