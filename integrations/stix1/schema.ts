import { s, type Infer } from '../../src/core/schema.js';
import { xmlLimitSchema } from '../../src/formats/xml-limits.js';

export const stix1Schema = {
  url: s.string({
    description:
      'http(s):// or file:// URL (or a path) of a STIX 1.1.1/1.2 package, or file:///dir/ for every *.xml file in a directory',
  }),
  ...xmlLimitSchema,
};
const obj = s.object(stix1Schema);
export type Stix1Config = Infer<typeof obj>;
