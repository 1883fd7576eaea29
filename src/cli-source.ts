import { resolve } from 'node:path';
import { formatLocation, type Rejection, errorMessage } from './core/errors.js';
import { accessPolicy, type AccessPolicy } from './access/policy.js';
import { compileScoring } from './score/model.js';
import { parseOptionPairs } from './server/ingest.js';
import type { StixgateConfig } from './config/config-schema.js';

/** `-o key=value` pairs (the value read as YAML), as `POST /api/v1/ingest` takes them in `option=`. */
export function parseOptions(pairs: string[] | undefined): Record<string, unknown> {
  try {
    return parseOptionPairs(pairs ?? []);
  } catch (e) {
    throw new Error(`--option: ${errorMessage(e)}`);
  }
}

/** The one-shot source entry (`convert`, `ingest`) reading a file or URL with a type's reader. */
export function adhocSource(file: string, format: string, options: Record<string, unknown>): Record<string, unknown> {
  const url = /^[a-z][a-z0-9+.-]*:\/\//i.test(file) ? file : resolve(file);
  return { cli: { type: format, url, run_on_start: false, ...options } };
}

export function rejectionLine(r: Rejection): string {
  const where = formatLocation(r.location);
  return `rejected: ${r.message} [${r.reason}]${where ? ` (${where})` : ''}`;
}

/** The access policy a configuration gives (default_tlp and the scoring model views are scored with). */
export function cliAccess(config: StixgateConfig): AccessPolicy {
  return accessPolicy({ defaultTlp: config.default_tlp, scoring: compileScoring(config.scoring) });
}
