import { at } from '../../src/core/indexed.js';
import type { SinkOutcome, SinkRunContext } from '../../src/delivery/types.js';
import type { SetRoute } from './routing.js';

/** One value to add to a set, with the mapped fields its entry may carry (`source`, `notes`). */
export interface PushItem {
  value: string;
  fields: Record<string, unknown>;
}

/** What the two QRadar API generations provide to the sink. Outcomes are one per item, in order. */
export interface SetApi {
  /** Finds or creates the sets (idempotent). */
  ensure(ctx: SinkRunContext, routes: SetRoute[]): Promise<void>;
  add(ctx: SinkRunContext, route: SetRoute, items: PushItem[]): Promise<SinkOutcome[]>;
  remove(ctx: SinkRunContext, route: SetRoute, values: string[]): Promise<SinkOutcome[]>;
}

/** Maps `items` through `fn` with at most `n` calls in flight; results in input order. */
export async function inPool<T, R>(items: T[], n: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  let failed: unknown;
  const worker = async () => {
    while (failed === undefined && next < items.length) {
      const i = next++;
      try {
        out[i] = await fn(at(items, i), i);
      } catch (e) {
        failed ??= e;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker));
  if (failed !== undefined) throw failed;
  return out;
}
