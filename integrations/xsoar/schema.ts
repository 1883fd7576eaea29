import { s, type Infer, type Schema } from '../../src/core/schema.js';

/**
 * Configuration of the `xsoar` sink (Cortex XSOAR's REST API documentation). The keys every sink accepts (filters,
 * batch_size, concurrency, retry, TLS…) are the engine's; these are XSOAR's.
 */

/** XSOAR's documented indicator limits: 2,000 per feed batch, 1,000 per search. */
export const XSOAR_MAX_BATCH = 2000;
export const XSOAR_MAX_SEARCH = 1000;
export const RELIABILITIES = [
  'A - Completely reliable',
  'B - Usually reliable',
  'C - Fairly reliable',
  'D - Not usually reliable',
  'E - Unreliable',
  'F - Reliability cannot be judged',
] as const;

/** A schema that adds a check to another. */
function refine<T>(base: Schema<T>, check: (v: T) => string | undefined): Schema<T> {
  return {
    ...base,
    parse(value, path, issues) {
      const v = base.parse(value, path, issues);
      const problem = v === undefined ? undefined : check(v);
      if (problem) issues.push({ path, message: problem });
      return problem ? undefined : v;
    },
  };
}

export const xsoarSchema = {
  url: s.string({
    pattern: /^https?:\/\/[^/?#]+\/?$/i,
    patternHint: 'must be an http(s)://host[:port] URL without a path (the API path follows from version and tenant)',
    description: 'server URL: XSOAR 6 `https://xsoar.example`; XSOAR 8 the API host `https://api-<fqdn>`',
  }),
  api_key: s.string({
    secret: true,
    minLength: 1,
    description: 'API key (Settings → API keys), sent as `Authorization`; for an advanced key only its hash is sent',
  }),
  version: refine(
    s.int({
      default: 6,
      min: 6,
      max: 8,
      description:
        'server generation: 6 (paths at the root, `/acc_<tenant>` for tenants) or 8 (`/xsoar/public/v1/…`, needs auth_id)',
    }),
    (v) => (v === 6 || v === 8 ? undefined : `must be 6 or 8, got ${v}`),
  ),
  auth_id: s.int({ optional: true, min: 1, description: 'XSOAR 8: the API key ID, sent as `x-xdr-auth-id`' }),
  key_type: s.enum(['standard', 'advanced'] as const, {
    default: 'standard',
    description:
      'XSOAR 8 key type: `advanced` sends a per-request nonce, timestamp and SHA-256 hash instead of the key',
  }),
  tenant: s.string({
    optional: true,
    pattern: /^[A-Za-z0-9_.-]+$/,
    patternHint: 'letters, digits, "_", "-" and "." only',
    description: 'XSOAR 6 multi-tenant account (requests go to `/acc_<tenant>/…`)',
  }),
  api_path: s.string({
    optional: true,
    pattern: /^(\/[A-Za-z0-9_.-]+)+$/,
    patternHint: 'an absolute path such as /xsoar',
    description: 'XSOAR 8 API path prefix (default `/xsoar/public/v1`; demisto-py uses `/xsoar`)',
  }),
  max_batch_size: s.int({
    default: XSOAR_MAX_BATCH,
    min: 1,
    max: XSOAR_MAX_BATCH,
    description: 'indicators per `/indicators/feed/json` request (lower it when the server times out on large batches)',
  }),
  search_chunk: s.int({
    default: 200,
    min: 1,
    max: XSOAR_MAX_SEARCH,
    description: 'values looked up per `/indicators/search` request (removals, verdict pinning)',
  }),
  source_brand: s.string({
    default: 'stixgate',
    minLength: 1,
    description: 'source brand of the pushed indicators; removals only delete indicators that carry it',
  }),
  source_instance: s.string({
    default: 'stixgate',
    minLength: 1,
    description: 'source instance of the pushed indicators',
  }),
  reliability: s.enum(RELIABILITIES, { optional: true, description: 'source reliability sent with each indicator' }),
  verdict: s.object(
    {
      bad: s.int({ default: 75, min: 0, max: 100, description: 'scores at or above this are Bad (3)' }),
      suspicious: s.int({
        default: 40,
        min: 0,
        max: 100,
        description: 'scores at or above this (and below `bad`) are Suspicious (2)',
      }),
      good_below: s.int({
        optional: true,
        min: 0,
        max: 100,
        description: 'scores below this are Good (1); unset: lower scores are Unknown (0)',
      }),
    },
    {
      default: { bad: 75, suspicious: 40 } as { bad: number; suspicious: number; good_below: number },
      description: 'stixgate score (0-100) → XSOAR verdict; no score → Unknown (0)',
    },
  ),
  fields_via: s.enum(['feed', 'edit'] as const, {
    default: 'feed',
    description:
      "how the mapped fields (TLP, tags, description, STIX id…) reach XSOAR: `feed` = in the feed indicators' `fields` (one request per batch; the server's feed classifier decides what it keeps), `edit` = with `/indicator/edit` `CustomFields` after the feed request (the swagger's documented field path; one search per 200 values and one edit per changed indicator)",
  }),
  pin_verdict: s.bool({
    default: false,
    description:
      'also set the verdict manually (`manualScore`, via /indicator/edit with version checks) so that other sources cannot change it',
  }),
  bypass_exclusion_list: s.bool({
    default: false,
    description: 'create values that are on the XSOAR exclusion list (by default XSOAR skips them)',
  }),
  default_expiration: s.enum(['indicatorType', 'never'] as const, {
    default: 'indicatorType',
    description: "expiration of indicators without valid_until: the indicator type's policy or never",
  }),
};

const obj = s.object(xsoarSchema);
export type XsoarConfig = Infer<typeof obj>;

export const XSOAR_SECRET_PATHS = ['api_key'];
