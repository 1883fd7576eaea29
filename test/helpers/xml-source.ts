/**
 * Test support: runs the `stix1` / `openioc` sources over a file or directory through the engine's
 * own path (config schema with defaults, component creation, the one registry).
 */
import { type Collected, collectPages, FIXED_NOW, fileUrl } from './collect.js';

export { type Collected, FIXED_NOW } from './collect.js';

export function collectXmlSource(
  type: 'stix1' | 'openioc',
  file: string,
  options: Record<string, unknown> = {},
  cursor?: string,
  now = FIXED_NOW,
): Promise<Collected> {
  return collectPages(type, fileUrl(file, true), options, now, cursor);
}
