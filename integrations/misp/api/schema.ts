import { s, type Infer } from '../../../src/core/schema.js';

export const mispApiSchema = {
  url: s.string({
    pattern: /^https?:\/\/[^/?#]+/i,
    patternHint: 'an http(s):// URL of the MISP server',
    description: 'base URL of the MISP server, e.g. https://misp.example.org',
  }),
  api_key: s.string({
    minLength: 1,
    maxLength: 256,
    description: 'MISP automation key, sent as the `Authorization` header (a secret: use ${env:…} or ${file:…})',
  }),
  mode: s.enum(['events', 'attributes'] as const, {
    default: 'events',
    description:
      '`events`: /events/restSearch (reports, objects, galaxies, sightings); `attributes`: /attributes/restSearch (attributes only, lighter)',
  }),
  published_only: s.bool({ default: true, description: 'only published events (and their attributes)' }),
  tags: s.array(s.string({ minLength: 1, maxLength: 256 }), {
    default: [],
    maxItems: 50,
    description: 'MISP tag filter (`!tag` excludes), sent as `tags`',
  }),
  to_ids_only: s.bool({
    default: false,
    description: 'ask only for attributes with to_ids set (the others become observables without indicators otherwise)',
  }),
  page_size: s.int({ default: 1000, min: 1, max: 100_000, description: 'restSearch `limit` per page' }),
  max_pages: s.int({
    default: 10_000,
    min: 1,
    max: 1_000_000,
    description: 'pages per run at most; a window cut short commits no cursor',
  }),
  overlap_secs: s.int({
    default: 300,
    min: 0,
    max: 604800,
    description: 'the next window starts this long before the newest timestamp of the last completed one',
  }),
  initial_lookback_days: s.int({
    default: 30,
    min: 0,
    max: 36500,
    description: 'first run (no cursor): fetch this many days back (0 = everything)',
  }),
  max_skew_secs: s.int({
    default: 300,
    min: 0,
    max: 86400,
    description: 'timestamps later than now + this never move the cursor past now',
  }),
};
const o = s.object(mispApiSchema);
export type MispApiConfig = Infer<typeof o>;
