import type { IntegrationDefinition } from '../src/config/registry.js';
import { textListSource } from './text_list/index.js';
import { csvSource } from './csv/index.js';
import { stixBundleSource } from './stix_bundle/index.js';
import { cisaKevSource } from './cisa_kev/index.js';
import { stix1Source } from './stix1/index.js';
import { openiocSource } from './openioc/index.js';
import { taxii21Source } from './taxii21/index.js';
import { mispFeedSource } from './misp/feed/index.js';
import { mispApiSource } from './misp/api/index.js';
import { otxSource } from './otx/index.js';
import { urlhausSource, threatfoxSource, malwarebazaarSource } from './abusech/index.js';
import { splunkKvSink, splunkEsSink, splunkHecSink } from './splunk/index.js';
import { xsoarSink } from './xsoar/index.js';
import { qradarSink } from './qradar/index.js';
import { virustotalEnricher } from './virustotal/index.js';
import { abuseipdbEnricher } from './abuseipdb/index.js';
import { shodanEnricher } from './shodan/index.js';
import { rdapEnricher } from './rdap/index.js';
import { passiveDnsEnricher } from './passive_dns/index.js';

/** The one registry of integrations. Adding a system: one folder, one line here. */
export const registry: readonly IntegrationDefinition[] = [
  textListSource,
  csvSource,
  stixBundleSource,
  cisaKevSource,
  stix1Source,
  openiocSource,
  taxii21Source,
  mispFeedSource,
  mispApiSource,
  otxSource,
  urlhausSource,
  threatfoxSource,
  malwarebazaarSource,
  splunkKvSink,
  splunkEsSink,
  splunkHecSink,
  xsoarSink,
  qradarSink,
  virustotalEnricher,
  abuseipdbEnricher,
  shodanEnricher,
  rdapEnricher,
  passiveDnsEnricher,
];
