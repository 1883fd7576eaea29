import { s, type Infer } from '../../../src/core/schema.js';

export const mispFeedSchema = {
  url: s.string({ description: 'base URL of the feed (the folder holding manifest.json), http(s):// or file://' }),
  published_only: s.bool({ default: false, description: 'skip events whose `published` is false' }),
  verify_hashes: s.bool({
    default: true,
    description: 'check event files against hashes.csv when it lists file checksums',
  }),
  overlap_secs: s.int({
    default: 0,
    min: 0,
    max: 604800,
    description: 'events whose manifest timestamp is at or after (cursor - overlap) are fetched again',
  }),
  max_skew_secs: s.int({
    default: 300,
    min: 0,
    max: 86400,
    description: 'a manifest timestamp later than now + this never moves the cursor past now',
  }),
  max_events: s.int({
    optional: true,
    min: 1,
    max: 1_000_000,
    description: 'fetch at most this many events per run (oldest first); the rest follow next run',
  }),
};
const o = s.object(mispFeedSchema);
export type MispFeedConfig = Infer<typeof o>;
