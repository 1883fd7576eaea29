/**
 * Configuration for false-positive filtering (added to the top-level schema by the engine):
 *
 * ```yaml
 * warninglists:
 *   paths: [./misp-warninglists]      # directories (lists/<name>/list.json) or list files
 *   urls: [https://raw.githubusercontent.com/MISP/misp-warninglists/main/lists/rfc1918/list.json]
 *   refresh_hours: 24
 *   exclude: [alexa, "Top 1000 website from Alexa"]   # list ids or names
 * publish_allowlist:
 *   - 192.0.2.0/24                    # plain values are typed automatically
 *   - example.com
 *   - { type: regex, value: '/^(abuse|noc)@/i' }
 * sources:
 *   internal_feed: { type: …, trusted: true }   # published despite warninglist hits
 * ```
 */
import { s, type Schema, type Issue } from '../core/schema.js';
import { isRecord } from '../core/guards.js';
import { checkAllowlistEntry, type AllowlistEntry } from './allowlist.js';

export const warninglistsSchema = s.object(
  {
    enabled: s.bool({
      default: true,
      description: 'set false to load no warninglists (the publish allowlist still applies)',
    }),
    paths: s.array(s.string({ minLength: 1, maxLength: 4096 }), {
      default: [],
      maxItems: 100,
      description:
        'directories searched for `list.json` files (the misp-warninglists layout `lists/<name>/list.json`), or single list files',
    }),
    urls: s.array(s.string({ pattern: /^https?:\/\/\S+$/, patternHint: 'must be an http(s) URL', maxLength: 2048 }), {
      default: [],
      maxItems: 500,
      description: 'list documents fetched over HTTP (one `list.json` each)',
    }),
    refresh_hours: s.number({
      default: 24,
      min: 0.1,
      max: 24 * 30,
      description: 'how often lists are reloaded from paths and URLs',
    }),
    exclude: s.array(s.string({ maxLength: 256 }), {
      default: [],
      description: 'list ids (folder names) or names to leave out',
    }),
  },
  {
    default: { enabled: true, paths: [], urls: [], refresh_hours: 24, exclude: [] },
    description:
      'MISP warninglists: values on a list are kept in the store but not published to sinks, unless a trusted source delivered them',
  },
);

/** One publish allowlist entry: a plain value (typed automatically) or `{type, value, comment}`. */
export const allowlistEntrySchema: Schema<AllowlistEntry> = {
  kind: 'value or {type: string|substring|hostname|cidr|regex, value}',
  description: 'a plain IP/CIDR, domain, URL, e-mail or hash, or an entry with an explicit match type',
  optional: false,
  parse(value: unknown, path: string, issues: Issue[]): AllowlistEntry | undefined {
    if (value === undefined || value === null) {
      issues.push({ path, message: 'is required' });
      return undefined;
    }
    const r = checkAllowlistEntry(value, path);
    if (!r.ok) {
      issues.push(r.issue);
      return undefined;
    }
    // as written: a plain value, or the mapping (checkAllowlistEntry refused any other key)
    if (typeof value === 'string') return value;
    return {
      type: r.type,
      value: isRecord(value) && typeof value.value === 'string' ? value.value : r.value,
      ...(isRecord(value) && typeof value.comment === 'string' ? { comment: value.comment } : {}),
    };
  },
};

export const publishAllowlistSchema = s.array(allowlistEntrySchema, {
  default: [],
  maxItems: 100_000,
  description: 'values never published to sinks (kept in the store): same match types as warninglists',
});

/** Top-level keys: add to the configuration schema as `warninglists` and `publish_allowlist`. */
export const filterConfigSchema = {
  warninglists: warninglistsSchema,
  publish_allowlist: publishAllowlistSchema,
};

/** The key every source accepts: add to commonSourceSchema. */
export const trustedSourceSchema = {
  trusted: s.bool({
    default: false,
    description:
      "publish this source's values even when they are on a warninglist (the publish allowlist still applies)",
  }),
};
