/**
 * What the Splunk account of each management-port sink needs, and the requests that need it: the
 * "Capabilities the Splunk account needs" table of the README, checked against the simulator's
 * permission model by capabilities.test.ts. A grant is a capability or `write:<app>` (the app's
 * write ACL lists one of the account's roles; `admin_all_objects` stands in for every app).
 */
export interface SplunkGrant {
  sink: 'splunk_kv' | 'splunk_es';
  grant: string;
  /** The requests refused without the grant (method and path below servicesNS/{owner}/{app}). */
  requests: string[];
  source: string;
}

export const SPLUNK_GRANTS: SplunkGrant[] = [
  {
    sink: 'splunk_kv',
    grant: 'write:<app>',
    requests: [
      'POST storage/collections/config',
      'POST storage/collections/data/{collection}/batch_save',
      'DELETE storage/collections/data/{collection}',
    ],
    source: 'Splunk REST API reference: knowledge objects of an app; KV writes by the app ACL',
  },
  {
    sink: 'splunk_es',
    grant: 'write:DA-ESS-ThreatIntelligence',
    requests: ['POST storage/collections/data/{collection}/batch_save', 'DELETE storage/collections/data/{collection}'],
    source: 'Splunk ES threat intelligence API: ES collections live in app DA-ESS-ThreatIntelligence',
  },
  {
    sink: 'splunk_es',
    grant: 'edit_threat_intel_collections',
    requests: ['POST storage/collections/data/{collection}/batch_save', 'DELETE storage/collections/data/{collection}'],
    source: 'Splunk ES threat intelligence API: "capability edit_threat_intel_collections"',
  },
];
