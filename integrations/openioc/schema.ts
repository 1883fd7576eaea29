import { s, type Infer } from '../../src/core/schema.js';
import { xmlLimitSchema } from '../../src/formats/xml-limits.js';

export const openIocSchema = {
  url: s.string({
    description:
      'http(s):// or file:// URL (or a path) of an OpenIOC 1.0/1.1 document, or file:///dir/ for every *.ioc / *.xml file in a directory',
  }),
  ...xmlLimitSchema,
};
const obj = s.object(openIocSchema);
export type OpenIocConfig = Infer<typeof obj>;
