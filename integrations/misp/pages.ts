import type { Page, SourceRunContext } from '../../src/pipeline/types.js';
import type { EventResult } from './map.js';

export const MISP_PAGE_SIZE = 10_000;

/** Run-wide counters: attributes read and unknown attribute types (logged at the end of a run). */
export class MispRunStats {
  attributes = 0;
  events = 0;
  unknownTypes = new Map<string, number>();

  add(r: EventResult): void {
    this.events++;
    this.attributes += r.attributes;
    for (const [t, n] of r.unknownTypes) this.unknownTypes.set(t, (this.unknownTypes.get(t) ?? 0) + n);
  }

  log(ctx: SourceRunContext): void {
    const unknown = Object.fromEntries([...this.unknownTypes].sort((a, b) => b[1] - a[1]).slice(0, 50));
    ctx.logger.info(
      { events: this.events, attributes: this.attributes, unknown_types: unknown },
      'misp run: attributes read; unknown types kept as x-misp-attribute',
    );
  }
}

/** Splits one event's result into pages; only the last carries the cursor. */
export function* eventPages(r: EventResult, cursor: string | undefined): Generator<Page> {
  const { items, rejections } = r;
  if (items.length + rejections.length <= MISP_PAGE_SIZE) {
    const p: Page = { items, rejections, received: r.attributes };
    if (cursor !== undefined) p.cursor = cursor;
    yield p;
    return;
  }
  for (let i = 0; i < items.length; i += MISP_PAGE_SIZE) {
    const last = i + MISP_PAGE_SIZE >= items.length;
    const p: Page = {
      items: items.slice(i, i + MISP_PAGE_SIZE),
      rejections: last ? rejections : [],
      received: last ? r.attributes : 0,
    };
    if (last && cursor !== undefined) p.cursor = cursor;
    yield p;
  }
  if (items.length === 0)
    yield { items: [], rejections, received: r.attributes, ...(cursor !== undefined ? { cursor } : {}) };
}
