import { ES_INTEL_APP, messages, type SimResponse } from './sim-kv.js';

/**
 * Roles of the Splunk simulator's users: the capabilities of the user's roles and the apps whose
 * write ACL lists one of them. splunkd checks a KV store write against the collection's app (its
 * write ACL, or `admin_all_objects`), and Enterprise Security's threat-intel collections also need
 * `edit_threat_intel_collections` (Splunk Enterprise Security's threat intelligence API). A user without an entry may do anything.
 */
export interface SplunkRole {
  capabilities: string[];
  /** Apps whose write ACL includes the user's role. */
  writeApps?: string[];
}

/**
 * The 403 for a write the role may not make, or undefined. `what` is the object path splunkd names
 * (`/nobody/<app>/<collection>`) [UNCERTAIN: the wording of splunkd's permission message].
 */
export function writeRefusal(
  role: SplunkRole | undefined,
  user: string,
  app: string,
  what: string,
): SimResponse | undefined {
  if (!role) return undefined;
  const caps = new Set(role.capabilities);
  const appWrite = caps.has('admin_all_objects') || (role.writeApps ?? []).includes(app);
  const esWrite = app !== ES_INTEL_APP || caps.has('edit_threat_intel_collections');
  if (appWrite && esWrite) return undefined;
  const missing = !appWrite ? `write permission on app ${app}` : 'capability edit_threat_intel_collections';
  return messages(403, `User '${user}' with roles { stixgate } cannot write: ${what} (${missing})`);
}
