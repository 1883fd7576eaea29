import { at } from '../../src/core/indexed.js';
import type { SinkOutcome, SinkRunContext } from '../../src/delivery/types.js';
import type { IocObject, XsoarClient } from './client.js';

/**
 * Edits of freshly fed indicators with `/indicator/edit` (swagger IocObject): `pin_verdict` sets the
 * verdict manually (`manualScore: true`), `fields_via: edit` writes the mapped fields into
 * `CustomFields`, the swagger's documented place for them. XSOAR versions every item: an edit must
 * carry the current `version`, a stale one is refused with a "DB version conflict" (409, or 400 on
 * some servers). The indicator is then read again and the edit retried with its new version; one
 * that already holds what the edit would write is left alone (so a resent batch changes nothing).
 */

const ATTEMPTS = 3;
/** IocObject fields of the swagger that an edit carries back (runtime-only fields are left out). */
const EDIT_FIELDS = [
  'id',
  'version',
  'value',
  'indicator_type',
  'comment',
  'source',
  'setBy',
  'account',
  'firstSeen',
  'lastSeen',
  'manuallyEditedFields',
  'CustomFields',
];
const PARALLEL = 4;

type Lookup = (ctx: SinkRunContext, values: string[]) => Promise<Map<string, IocObject>>;

/** What one edit writes: a pinned verdict, custom fields, or both. */
export interface IndicatorEdit {
  value: string;
  verdict?: number;
  fields?: Record<string, unknown>;
}

const isConflict = (status: number, detail: string): boolean =>
  status === 409 || (status === 400 && /version conflict/i.test(detail));
const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/** The fields of an edit the indicator does not hold yet, or undefined when it holds them all. */
function pending(ioc: IocObject, e: IndicatorEdit): Record<string, unknown> | undefined {
  const out: Record<string, unknown> = {};
  if (e.verdict !== undefined && !(ioc.manualScore === true && ioc.score === e.verdict))
    Object.assign(out, { score: e.verdict, manualScore: true });
  const current = (ioc.CustomFields ?? {}) as Record<string, unknown>;
  const changed = Object.entries(e.fields ?? {}).filter(([k, v]) => !same(current[k], v));
  if (changed.length) out.CustomFields = { ...current, ...Object.fromEntries(changed) };
  return Object.keys(out).length ? out : undefined;
}

async function editOne(
  ctx: SinkRunContext,
  client: XsoarClient,
  lookup: Lookup,
  e: IndicatorEdit,
  first: IocObject | undefined,
): Promise<SinkOutcome> {
  let ioc = first;
  for (let n = 0; n < ATTEMPTS; n++) {
    if (!ioc)
      return {
        status: 'reject',
        reason: `XSOAR holds no indicator ${e.value} after the feed request: the value is on the exclusion list (set bypass_exclusion_list to push it)`,
      };
    const change = pending(ioc, e);
    if (!change) return { status: 'ok' };
    const held = ioc;
    const current = Object.fromEntries(EDIT_FIELDS.filter((f) => held[f] !== undefined).map((f) => [f, held[f]]));
    const r = await client.post(ctx, '/indicator/edit', { ...current, ...change }, true);
    if (r.status === 200) return { status: 'ok' };
    if (r.status === 404)
      return { status: 'retry', reason: `indicator ${e.value} was deleted while it was being edited` };
    if (!isConflict(r.status, r.detail))
      return { status: 'reject', reason: `XSOAR refused the edit of ${e.value}: ${r.status} ${r.detail}` };
    ioc = (await lookup(ctx, [e.value])).get(e.value.toLowerCase());
  }
  return { status: 'retry', reason: `indicator ${e.value} kept changing (version conflict ${ATTEMPTS} times)` };
}

export async function editIndicators(
  ctx: SinkRunContext,
  client: XsoarClient,
  items: IndicatorEdit[],
  lookup: Lookup,
): Promise<SinkOutcome[]> {
  const found = await lookup(
    ctx,
    items.map((x) => x.value),
  );
  const out: SinkOutcome[] = new Array(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const k = next++;
      const item = at(items, k);
      out[k] = await editOne(ctx, client, lookup, item, found.get(item.value.toLowerCase()));
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL, items.length) }, worker));
  return out;
}
