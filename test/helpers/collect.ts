import { resolve } from 'node:path';
import type { StixObject } from '../../src/core/stix.js';
import type { Rejection } from '../../src/core/errors.js';
import { componentPages, sourceComponent } from './source-harness.js';

/** A fixed clock for tests: 2026-03-01T12:00:00Z. */
export const FIXED_NOW = Date.UTC(2026, 2, 1, 12, 0, 0);

/** Everything one run of a source emitted. */
export interface Collected {
  objects: StixObject[];
  rejections: Rejection[];
  received: number;
  pages: number;
  cursor?: string;
}

/** A `file://` URL for a path (a URL stays as it is); with `keepSlash`, the trailing slash of a folder is kept. */
export function fileUrl(file: string, keepSlash = false): string {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(file)) return file;
  return `file://${resolve(file)}${keepSlash && file.endsWith('/') ? '/' : ''}`;
}

/**
 * Runs one source type at `url` through the same path as `stixgate convert` (config schema,
 * defaults, registry) from `cursor` and collects everything it emits.
 */
export async function collectPages(
  type: string,
  url: string,
  options: Record<string, unknown>,
  now: number,
  cursor?: string,
): Promise<Collected> {
  const comp = sourceComponent('t', { type, url, ...options });
  const out: Collected = { objects: [], rejections: [], received: 0, pages: 0 };
  for await (const page of componentPages(comp, now, cursor === undefined ? {} : { cursor })) {
    out.pages++;
    for (const it of page.items) out.objects.push(it.object);
    out.rejections.push(...page.rejections);
    out.received += page.received;
    if (page.cursor !== undefined) out.cursor = page.cursor;
  }
  return out;
}

/** Runs one source type over a file (or URL) and collects everything it emits. */
export async function collectSource(
  type: string,
  file: string,
  options: Record<string, unknown> = {},
  now = FIXED_NOW,
): Promise<Omit<Collected, 'pages'>> {
  const { pages: _pages, ...out } = await collectPages(type, fileUrl(file), options, now);
  return { ...out, cursor: out.cursor };
}
