import { s, type Infer, type Issue } from '../../core/schema.js';
import { TLP_LEVELS } from '../../core/stix.js';
import type { ServerConfig } from '../schema.js';

/**
 * The `taxii:` configuration: the built-in TAXII 2.1 server (docs/taxii.md). API roots hold
 * collections; each collection is a view of the store (TLP ceiling and filters) with its own
 * read and write rights.
 */

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const KEY_ID = s.string({
  pattern: /^(\*|[a-z0-9][a-z0-9_-]{0,63})$/,
  patternHint: 'must be an API key id from server.api_keys, or "*" for every key with the taxii scope',
});

export const collectionSchema = s.object({
  id: s.string({
    optional: true,
    pattern: UUID_RE,
    patternHint: 'must be a lower-case UUID',
    description:
      'the collection id clients use (default: a UUIDv5 of the API root and collection names, stable across restarts)',
  }),
  title: s.string({
    optional: true,
    maxLength: 256,
    description: 'human-readable title (default: the collection name)',
  }),
  description: s.string({ optional: true, maxLength: 4096 }),
  max_tlp: s.enum(TLP_LEVELS, {
    default: 'clear',
    description:
      "TLP ceiling of the collection: objects are served through their contributions at or below it, and at or below the reader's key `max_tlp`",
  }),
  types: s.array(s.string({ pattern: /^[a-z][a-z0-9-]*$/, patternHint: 'must be a STIX type name' }), {
    default: [],
    description: 'STIX types served (empty: all)',
  }),
  sources: s.array(s.string({ maxLength: 128 }), {
    default: [],
    description: 'serve only objects with a visible contribution from one of these sources (empty: all)',
  }),
  labels: s.array(s.string({ maxLength: 256 }), {
    default: [],
    description: "serve only objects carrying one of these labels in the reader's view (empty: all)",
  }),
  min_score: s.int({
    default: 0,
    min: 0,
    max: 100,
    description:
      "indicators scoring below this (in the reader's view) are not served; other types have no score and are not filtered by it",
  }),
  anonymous_read: s.bool({
    default: false,
    description:
      'readable without a key while `server.anonymous_lookup` is on (the anonymous reader sees TLP:CLEAR only)',
  }),
  read_keys: s.array(KEY_ID, {
    default: ['*'],
    description: 'API keys (with the `taxii` scope) that may read; "*": every such key',
  }),
  write_keys: s.array(KEY_ID, {
    default: [],
    description: 'API keys (with the `taxii` scope) that may add objects with POST (empty: read-only)',
  }),
  write_tlp: s.enum(TLP_LEVELS, {
    optional: true,
    description: 'TLP of a posted object that carries no TLP marking (default: `default_tlp`)',
  }),
  write_confidence: s.int({
    optional: true,
    min: 0,
    max: 100,
    description: 'confidence given to posted objects that carry none',
  }),
});

export const apiRootSchema = s.object({
  title: s.string({ optional: true, maxLength: 256, description: 'human-readable title (default: the API root name)' }),
  description: s.string({ optional: true, maxLength: 4096 }),
  collections: s.record(collectionSchema, { default: {}, description: 'collections by name' }),
});

const DEFAULT_ROOTS = {
  default: {
    title: 'stixgate',
    collections: {
      public: {
        title: 'Public indicators (TLP:CLEAR)',
        max_tlp: 'clear',
        types: [],
        sources: [],
        labels: [],
        min_score: 0,
        anonymous_read: true,
        read_keys: ['*'],
        write_keys: [],
      },
    },
  },
};

export const taxiiSchema = s.object(
  {
    enabled: s.bool({ default: true, description: 'serve TAXII 2.1 under /taxii2/' }),
    title: s.string({ default: 'stixgate TAXII 2.1', maxLength: 256, description: 'discovery title' }),
    description: s.string({ optional: true, maxLength: 4096, description: 'discovery description' }),
    contact: s.string({ optional: true, maxLength: 1024, description: 'discovery contact' }),
    public_url: s.string({
      optional: true,
      pattern: /^https?:\/\/[^/?#]+$/i,
      patternHint: 'must be scheme and host (and port), without a path, e.g. https://taxii.example.org',
      description:
        "origin written into discovery's API root URLs (default: absolute paths, resolved by clients against the URL they called; never taken from the Host header)",
    }),
    default_api_root: s.string({
      optional: true,
      description: 'the API root named `default` in discovery (default: the first one)',
    }),
    max_page_size: s.int({
      default: 1000,
      min: 1,
      max: 10_000,
      description: 'largest `limit` accepted (400 above); also the page size when a request gives none',
    }),
    max_scan_per_request: s.int({
      default: 20_000,
      min: 100,
      max: 1_000_000,
      description:
        'change-log entries one request reads at most; a page may hold fewer objects than `limit` (with `more: true`) when the filters skip many',
    }),
    status_retention: s.int({
      default: 1000,
      min: 10,
      max: 100_000,
      description: 'status resources of POST requests kept in memory (oldest dropped first)',
    }),
    api_roots: s.record(apiRootSchema, {
      default: DEFAULT_ROOTS as never,
      description: 'API roots by name (the URL path segment under /taxii2/)',
    }),
  },
  {
    default: {
      enabled: true,
      title: 'stixgate TAXII 2.1',
      max_page_size: 1000,
      max_scan_per_request: 20_000,
      status_retention: 1000,
      api_roots: DEFAULT_ROOTS,
    } as never,
    description: 'the TAXII 2.1 server (docs/taxii.md)',
  },
);

export type TaxiiConfig = Infer<typeof taxiiSchema>;
export type CollectionConfig = Infer<typeof collectionSchema>;

/** What the schema cannot check alone: key ids exist and hold the `taxii` scope; the default root exists; collection ids are unique. */
export function taxiiIssues(t: TaxiiConfig, server: ServerConfig, path = 'taxii'): Issue[] {
  const issues: Issue[] = [];
  if (!t.enabled) return issues;
  if (t.default_api_root !== undefined && !Object.hasOwn(t.api_roots, t.default_api_root)) {
    issues.push({
      path: `${path}.default_api_root`,
      message: `names no API root (known: ${Object.keys(t.api_roots).join(', ') || 'none'})`,
    });
  }
  const ids = new Map<string, string>();
  for (const [root, r] of Object.entries(t.api_roots)) {
    for (const [name, c] of Object.entries(r.collections)) {
      const at = `${path}.api_roots.${root}.collections.${name}`;
      if (c.id !== undefined) {
        const other = ids.get(c.id);
        if (other) issues.push({ path: `${at}.id`, message: `is also the id of ${other}` });
        ids.set(c.id, at);
      }
      for (const field of ['read_keys', 'write_keys'] as const) {
        c[field].forEach((k, i) => {
          if (k === '*') return;
          const key = server.api_keys[k];
          if (!key) issues.push({ path: `${at}.${field}[${i}]`, message: `names no key in server.api_keys` });
          else if (!key.scopes.some((s) => s === 'taxii'))
            issues.push({ path: `${at}.${field}[${i}]`, message: `key "${k}" lacks the taxii scope` });
        });
      }
    }
  }
  return issues;
}
