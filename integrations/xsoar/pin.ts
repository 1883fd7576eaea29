import type { SinkOutcome, SinkRunContext } from '../../src/delivery/types.js';
import type { IocObject, XsoarClient } from './client.js';

/**
 * `pin_verdict`: sets the verdict of freshly fed indicators manually (`manualScore: true`) with
 * `/indicator/edit`. XSOAR versions every item: an edit must carry the current `version`, a stale
 * one is refused with a "DB version conflict" (409, or 400 on some servers). The indicator is then
 * read again and the edit retried with its new version; one that is already pinned to the wanted
 * verdict is left alone (so a resent batch changes nothing).
 */

const ATTEMPTS = 3;
/** IocObject fields of the swagger that an edit carries back (runtime-only fields are left out). */
const EDIT_FIELDS = ['id', 'version', 'value', 'indicator_type', 'comment', 'source', 'setBy', 'account', 'firstSeen', 'lastSeen', 'manuallyEditedFields', 'CustomFields'];
const PARALLEL = 4;

type Lookup = (ctx: SinkRunContext, values: string[]) => Promise<Map<string, IocObject>>;

const isConflict = (status: number, detail: string): boolean => status === 409 || (status === 400 && /version conflict/i.test(detail));

async function pinOne(ctx: SinkRunContext, client: XsoarClient, lookup: Lookup, value: string, verdict: number, first: IocObject | undefined): Promise<SinkOutcome> {
  let ioc = first;
  for (let n = 0; n < ATTEMPTS; n++) {
    if (!ioc) return { status: 'reject', reason: `XSOAR holds no indicator ${value} after the feed request: the value is on the exclusion list (set bypass_exclusion_list to push it)` };
    if (ioc.manualScore === true && ioc.score === verdict) return { status: 'ok' };
    const current = Object.fromEntries(EDIT_FIELDS.filter((f) => ioc![f] !== undefined).map((f) => [f, ioc![f]]));
    const r = await client.post(ctx, '/indicator/edit', { ...current, score: verdict, manualScore: true }, true);
    if (r.status === 200) return { status: 'ok' };
    if (r.status === 404) return { status: 'retry', reason: `indicator ${value} was deleted while its verdict was being set` };
    if (!isConflict(r.status, r.detail)) return { status: 'reject', reason: `XSOAR refused the verdict of ${value}: ${r.status} ${r.detail}` };
    ioc = (await lookup(ctx, [value])).get(value.toLowerCase());
  }
  return { status: 'retry', reason: `indicator ${value} kept changing (version conflict ${ATTEMPTS} times)` };
}

export async function pinVerdicts(ctx: SinkRunContext, client: XsoarClient, items: { value: string; verdict: number }[], lookup: Lookup): Promise<SinkOutcome[]> {
  const found = await lookup(ctx, items.map((x) => x.value));
  const out: SinkOutcome[] = new Array(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const k = next++;
      const { value, verdict } = items[k]!;
      out[k] = await pinOne(ctx, client, lookup, value, verdict, found.get(value.toLowerCase()));
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL, items.length) }, worker));
  return out;
}
