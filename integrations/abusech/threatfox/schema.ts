import { s } from '../../../src/core/schema.js';
import { abusechSchema, type AbusechConfig } from '../schema.js';

export const THREATFOX_API = 'https://threatfox-api.abuse.ch/api/v1/';

export const threatfoxSchema = {
  ...abusechSchema(THREATFOX_API),
  initial_days: s.int({
    default: 1,
    min: 1,
    max: 7,
    description:
      'days fetched by the first run (get_iocs allows 1-7); later runs ask for the days since the cursor, overlap included',
  }),
};

export interface ThreatfoxConfig extends AbusechConfig {
  initial_days: number;
}
