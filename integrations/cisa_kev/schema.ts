import { s, type Infer } from '../../src/core/schema.js';

export const cisaKevSchema = {
  url: s.string({
    default: 'https://www.cisa.gov/sites/default/files/feeds/known_exploited_vulnerabilities.json',
    description: 'URL (or file) of the KEV catalog JSON',
  }),
};
const obj = s.object(cisaKevSchema);
export type CisaKevConfig = Infer<typeof obj>;
