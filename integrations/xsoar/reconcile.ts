import { at } from '../../src/core/indexed.js';
import type { SinkRecord, SinkRunContext, RemoteEntry, SinkReconciler } from '../../src/delivery/types.js';
import { digestOf } from '../../src/delivery/reconcile-digest.js';
import { protocolError, type IocObject, type XsoarClient } from './client.js';
import { XSOAR_MAX_SEARCH, type XsoarConfig } from './schema.js';

/**
 * Reading XSOAR back for reconcile (docs/reconcile.md; the XSOAR swagger `POST /indicators/search`,
 * IndicatorFilter `query`, `size` ≤ 1000, `page`, `searchAfter` with the previous page's last
 * `sortValues`): only indicators carrying the sink's source brand (`sourceBrands:"<brand>"`) are
 * read. Indicators without it are other sources' and foreign: one search (`-sourceBrands:…`,
 * size 1) counts them, none is read or changed. An indicator is current when its type, the
 * fields of the mapping table that the record sets, and (when stixgate is its only contributor
 * and nobody set a verdict by hand) its verdict are those the push would send. Extra indicators
 * are taken out as the push path's removals do: deleted when stixgate alone contributed,
 * otherwise only stixgate's contribution is withdrawn.
 */

export interface XsoarReadAccess {
  client: XsoarClient;
  config: XsoarConfig;
  /** The mapping table's fields (remote field → attribute). */
  fields: Record<string, string>;
  /** The feed indicator the push sends for a record, or why it cannot be sent (src: sink.ts). */
  feedIndicator(
    r: SinkRecord,
  ): { value: string; type: string; score: number; fields: Record<string, unknown> } | { reject: string };
  /** Whether the sink's brand is the indicator's only contributor and nobody touched it. */
  sole(ioc: IocObject): boolean;
  withdraw(ctx: SinkRunContext, iocs: IocObject[], reason: string): Promise<void>;
}

interface Seen {
  type: string | undefined;
  fields: Record<string, unknown>;
  score: number | undefined;
  /** Several contributors, or a verdict set by hand: the verdict is not stixgate's alone. */
  shared?: boolean;
}

const quote = (v: string): string => `"${v.replace(/[\\"]/g, '\\$&')}"`;
const REF_KEYS = [
  'id',
  'version',
  'value',
  'indicator_type',
  'sourceBrands',
  'manualScore',
  'comment',
  'manuallyEditedFields',
  'investigationIDs',
  'comments',
] as const;

export function xsoarReconciler(a: XsoarReadAccess): SinkReconciler {
  const brand = a.config.source_brand;
  const tableFields = Object.keys(a.fields);
  const search = async (
    ctx: SinkRunContext,
    body: Record<string, unknown>,
  ): Promise<{ iocObjects: IocObject[]; total: number }> => {
    const r = await a.client.post(ctx, '/indicators/search', body, true);
    if (r.status !== 200)
      throw protocolError(a.client.component, `/indicators/search answered ${r.status}: ${r.detail}`);
    const b = r.body as { iocObjects?: unknown; total?: unknown } | undefined;
    const list = b?.iocObjects ?? [];
    if (
      !Array.isArray(list) ||
      list.some((i) => typeof (i as IocObject)?.id !== 'string' || typeof (i as IocObject).value !== 'string')
    ) {
      throw protocolError(a.client.component, '/indicators/search answered without an iocObjects list of {id, value}');
    }
    return { iocObjects: list as IocObject[], total: typeof b?.total === 'number' ? b.total : list.length };
  };
  return {
    describe: () => `XSOAR indicators of source brand ${brand} at ${a.client.base}`,
    async *read(ctx, schedule) {
      const query = `sourceBrands:${quote(brand)}`;
      let seen = 0;
      let page = 0;
      let after: string[] | undefined;
      for (;;) {
        const body: Record<string, unknown> = {
          query,
          size: XSOAR_MAX_SEARCH,
          ...(after ? { searchAfter: after } : { page }),
        };
        const r = await schedule(() => search(ctx, body));
        if (r.iocObjects.length === 0) return;
        seen += r.iocObjects.length;
        yield r.iocObjects.map((ioc): RemoteEntry => {
          const fields = (ioc.CustomFields ?? {}) as Record<string, unknown>;
          const held: Seen = {
            type: ioc.indicator_type,
            fields: Object.fromEntries(tableFields.filter((f) => fields[f] !== undefined).map((f) => [f, fields[f]])),
            score: ioc.score,
            ...(a.sole(ioc) && ioc.manualScore !== true ? {} : { shared: true }),
          };
          const ref = Object.fromEntries(REF_KEYS.filter((k) => ioc[k] !== undefined).map((k) => [k, ioc[k]]));
          return {
            key: ioc.value.toLowerCase(),
            digest: digestOf(held),
            ref,
            label: `${ioc.indicator_type ?? '?'} ${ioc.value}`,
            value: ioc.value,
          };
        });
        if (seen >= r.total) return;
        const last = at(r.iocObjects, r.iocObjects.length - 1).sortValues; // the page is not empty (above)
        if (Array.isArray(last) && last.length) after = last as string[];
        else page++;
      }
    },
    expected(r: SinkRecord) {
      const ind = a.feedIndicator(r);
      if ('reject' in ind) return undefined; // a type without an XSOAR indicator type: the push rejects it
      const want: Seen = { type: ind.type, fields: ind.fields, score: ind.score };
      return { key: ind.value.toLowerCase(), digest: digestOf(want), label: `${ind.type} ${ind.value}` };
    },
    same(remoteDigest, expectedDigest) {
      const held = JSON.parse(remoteDigest) as Seen;
      const want = JSON.parse(expectedDigest) as Seen;
      if (held.type !== want.type) return false;
      if (!held.shared && held.score !== want.score) return false;
      // fields the record leaves unset are not compared (another source may have set them)
      return Object.entries(want.fields).every(([f, v]) => digestOf(held.fields[f]) === digestOf(v));
    },
    async foreignCount(ctx, schedule) {
      return (await schedule(() => search(ctx, { query: `-sourceBrands:${quote(brand)}`, size: 1, page: 0 }))).total;
    },
    async removeExtra(entries, ctx, schedule) {
      await schedule(() =>
        a.withdraw(
          ctx,
          entries.map((e) => e.ref as IocObject),
          "reconcile: not in the sink's view of the store",
        ),
      );
    },
  };
}
