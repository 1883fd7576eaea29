import { s, type Infer, type Schema } from '../core/schema.js';
import { TLP_LEVELS } from '../core/stix.js';
import { EDL_FORMATS, EDL_KINDS, FORMAT_KINDS, type EdlFormat, type EdlKind } from './formats.js';

/** A list never carries TLP:RED. */
const LIST_TLP = TLP_LEVELS.filter((l) => l !== 'red');

const baseList = s.object({
  format: s.enum(EDL_FORMATS, {
    description:
      'the device the list is for: paloalto (PAN-OS external dynamic list), fortinet (FortiGate threat feed), checkpoint (network feed, flat list), plain (canonical values)',
  }),
  kinds: s.array(s.enum(EDL_KINDS), {
    default: [],
    description:
      'kinds served, each at /edl/<list>/<kind> (empty: every kind the format takes: paloalto ip, domain, url; fortinet also md5, sha1, sha256; checkpoint ip, domain)',
  }),
  max_tlp: s.enum(LIST_TLP, {
    default: 'green',
    description:
      'the list is the view at this TLP ceiling (docs/access.md); a key reads it only when its own max_tlp is at or above it',
  }),
  min_score: s.int({
    default: 0,
    min: 0,
    max: 100,
    description: 'indicators scoring below this (in the view at max_tlp) are left out',
  }),
  labels: s.array(s.string({ maxLength: 256 }), {
    default: [],
    description: 'only indicators carrying one of these labels (empty: all)',
  }),
  exclude_labels: s.array(s.string({ maxLength: 256 }), {
    default: [],
    description: 'never indicators carrying one of these labels',
  }),
  sources: s.array(s.string({ maxLength: 128 }), {
    default: [],
    description: 'only indicators delivered by one of these sources (empty: all)',
  }),
  warninglists: s.bool({
    default: true,
    description:
      'leave out values on a warninglist or the publish allowlist (as sinks do: a trusted source overrides a warninglist)',
  }),
  subdomains: s.bool({
    default: false,
    description:
      'domain lists also carry `*.<domain>` (paloalto, fortinet) so that every name below a listed domain matches',
  }),
  max_entries: s.int({
    optional: true,
    min: 1,
    max: 10_000_000,
    description:
      'entries per kind at most; above it the highest-scored are kept and stixgate_edl_truncations_total counts it (default: paloalto 50000, fortinet 131072, checkpoint 50000, plain 1000000)',
  }),
  max_bytes: s.int({
    optional: true,
    min: 1024,
    max: 1024 * 1024 * 1024,
    description: 'bytes per kind at most, cut at a line (default: fortinet 10485760, others none)',
  }),
});

/** One list: a view (TLP ceiling and filters) in a vendor's format; its kinds must be ones the vendor takes. */
const listSchema: Schema<Infer<typeof baseList>> = {
  ...baseList,
  parse(v, path, issues) {
    const r = baseList.parse(v, path, issues);
    if (!r) return r;
    const allowed = FORMAT_KINDS[r.format as EdlFormat];
    r.kinds.forEach((k, i) => {
      if (!allowed.includes(k))
        issues.push({
          path: `${path}.kinds[${i}]`,
          message: `format ${r.format} has no ${k} list; it takes ${allowed.join(', ')}`,
        });
    });
    return r;
  },
};

export const edlSchema = s.object(
  {
    follow_interval_ms: s.int({
      default: 1000,
      min: 50,
      max: 60_000,
      description: 'how often the lists apply new change-log entries (and are regenerated when they changed)',
    }),
    basic_auth: s.bool({
      default: false,
      description:
        'also accept HTTP Basic credentials on /edl routes (user: the key id, password: the key), for devices that cannot send an Authorization: Bearer or X-Api-Key header',
    }),
    lists: s.record(listSchema, {
      default: {},
      description: 'firewall lists by name, served at /edl/<name>/<kind> to keys with the `edl` scope (docs/edl.md)',
    }),
  },
  {
    default: { follow_interval_ms: 1000, basic_auth: false, lists: {} },
    description: 'plain-text lists for firewalls (docs/edl.md)',
  },
);

export type EdlConfig = Infer<typeof edlSchema>;
export type EdlListConfig = Infer<typeof baseList>;

/** The kinds a list serves (its `kinds`, or every kind its format takes). */
export function listKinds(c: EdlListConfig): readonly EdlKind[] {
  return c.kinds.length ? c.kinds : FORMAT_KINDS[c.format as EdlFormat];
}
