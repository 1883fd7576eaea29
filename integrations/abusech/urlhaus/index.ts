import type { SourceDefinition } from '../../../src/pipeline/types.js';
import { createRecentSource, endpoint } from '../run.js';
import { mapUrlhausPayload, mapUrlhausUrl, urlhausTime } from './map.js';
import { urlhausSchema, type UrlhausConfig } from './schema.js';

export const urlhausSource: SourceDefinition<UrlhausConfig> = {
  kind: 'source',
  transfer: 'pages',
  type: 'abusech_urlhaus',
  summary: 'abuse.ch URLhaus API: recent malware URLs or payloads (Auth-Key) → indicators',
  schema: urlhausSchema,
  secretPaths: ['auth_key'],
  create: (config) =>
    createRecentSource(config, {
      service: 'URLhaus',
      limit: config.limit,
      request: () => ({
        url: endpoint(config.url, `${config.endpoint}/recent/limit/${config.limit}/`),
        method: 'GET',
        listKey: config.endpoint,
      }),
      probe: () => ({
        url: endpoint(config.url, `${config.endpoint}/recent/limit/1/`),
        method: 'GET',
        listKey: config.endpoint,
      }),
      time: urlhausTime,
      map: config.endpoint === 'urls' ? mapUrlhausUrl : mapUrlhausPayload,
    }),
};
