import { s } from '../../src/core/schema.js';

/** The public API: 4 requests per minute, 500 per day (docs.virustotal.com, "Public vs Premium API"). */
export const VIRUSTOTAL_FREE_QUOTA = { per_minute: 4, per_day: 500 };

export const virustotalSchema = {
  url: s.string({
    default: 'https://www.virustotal.com',
    pattern: /^https?:\/\//,
    patternHint: 'an http(s) URL',
    description: 'VirusTotal base URL (the API is under /api/v3)',
  }),
  api_key: s.string({
    secret: true,
    minLength: 1,
    maxLength: 256,
    description: 'VirusTotal API key, sent as `x-apikey`; use `${ENV_VAR}` or `${file:…}`',
  }),
  full_score_share: s.number({
    default: 0.1,
    min: 0.01,
    max: 1,
    description:
      'share of engines flagging a value (suspicious counts half) that gives maliciousness 100; fewer scale down linearly',
  }),
};

export interface VirusTotalConfig {
  url: string;
  api_key: string;
  full_score_share: number;
}
